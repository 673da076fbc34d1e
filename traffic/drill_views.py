"""Drills on the pages: the running drill with its countdown (a polled card on the application
and region pages), a confirmation to start one, a drill's timeline, the history and its CSV."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.audit import Actor
from accounts.roles import OPERATOR, VIEWER, has_role, role_required
from regions.models import Application, Traffic

from . import dns, drill_csv, drills, routing, services
from .models import Drill, DrillStatus


def drill_context(application: Application, user, region=None) -> dict:
    """The drill card: the application's running drill (on a region page: only that region's),
    its countdown, and whether this user may start one here."""
    running = drills.running_drill(application)
    if region is not None and running is not None and running.region_id != region.pk:
        running = None
    can_start = False
    if region is not None and running is None and has_role(user, OPERATOR):
        try:
            routing.checks_of(region)
            can_start = (region.state in services.SWITCHABLE
                         and region.traffic == Traffic.SERVING)
        except routing.NoRoutingCheck:
            pass
    return {"drill": running, "drill_region": region,
            "drill_seconds_left": running.seconds_left(timezone.now()) if running else 0,
            "drill_can_start": can_start}


@require_GET
@role_required(VIEWER)
def drill_card(request, slug):
    application = get_object_or_404(Application, slug=slug)
    region = None
    if request.GET.get("region"):
        region = get_object_or_404(application.regions.all(), code=request.GET["region"])
    return render(request, "traffic/_drill.html", {
        "application": application, **drill_context(application, request.user, region)})


@role_required(VIEWER)
@require_http_methods(["GET", "POST"])
def drill_start(request, slug, code):
    if not has_role(request.user, OPERATOR):
        raise PermissionDenied("Starting a drill needs the operator role.")
    application = get_object_or_404(Application, slug=slug)
    region = get_object_or_404(application.regions.all(), code=code)
    minutes = request.POST.get("minutes", request.GET.get("minutes", "5")).strip()
    if request.method == "POST":
        try:
            drill = drills.start(application, code, minutes, Actor.from_request(request))
        except services.TrafficError as exc:
            messages.error(request, str(exc))
            return redirect(region)
        if drill.status == DrillStatus.FAILED:
            messages.error(request, drill.explanation)
        else:
            messages.success(request, f"Drill {drill.pk}: {code} is drained for {minutes} min "
                                      "and restores by itself.")
        return redirect("traffic:drill_detail", drill.pk)
    views = services.region_views(application)
    refusal = services.guard.refusal(views, code, Traffic.DRAINED, application.min_serving)
    running = drills.running_drill(application)
    if running is not None:
        refusal = f"{running} is running; one drill per application at a time."
    before = {a.client: a.answer for a in dns.predicted(views)}
    rows = [{"client": a.client, "before": before.get(a.client), "after": a.answer,
             "moves": before.get(a.client) != a.answer}
            for a in dns.predicted(views, (code, Traffic.DRAINED))]
    return render(request, "traffic/drill_confirm.html", {
        "application": application, "region": region, "rows": rows, "refusal": refusal,
        "minutes": minutes}, status=409 if refusal else 200)


@require_GET
@role_required(VIEWER)
def drill_detail(request, pk):
    drill = get_object_or_404(Drill.objects.select_related("application", "region"), pk=pk)
    context = {"application": drill.application, "drill": drill, "events": drill.events.all(),
               "drill_seconds_left": drill.seconds_left(timezone.now())}
    if request.htmx:
        return render(request, "traffic/drill_detail.html#timeline", context)
    return render(request, "traffic/drill_detail.html", context)


@require_GET
@role_required(VIEWER)
def drill_list(request, slug):
    application = get_object_or_404(Application, slug=slug)
    found = Drill.objects.filter(application=application).select_related("application",
                                                                         "region")
    if request.GET.get("format") == "csv":
        return drill_csv.response(application, found)
    return render(request, "traffic/drill_list.html", {
        "application": application, "drills": found[:200],
        "schedules": application.drill_schedules.select_related("region")})
