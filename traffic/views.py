"""Drain, restore and force from the region page: a confirmation page that says what clients
near each region get after the change, then the change itself."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.audit import Actor
from accounts.roles import ADMIN, OPERATOR, VIEWER, has_role, role_required
from regions.models import Application, Traffic

from . import dns, routing, services
from .models import ChangeStatus, RoutingReading, TrafficChange

ACTIONS = {"drain": Traffic.DRAINED, "restore": Traffic.SERVING, "force": Traffic.FORCED}


def region_traffic_context(region, user) -> dict:
    """The region page's traffic card: state, the last change and what may be done."""
    last = (TrafficChange.objects.filter(region=region).order_by("-requested_at").first())
    deployed = region.state in services.SWITCHABLE
    try:
        checks = routing.checks_of(region)
        missing = ""
    except routing.NoRoutingCheck as exc:
        checks, missing = None, str(exc)
    if not deployed:
        checks, missing = None, ("Not deployed: its traffic can be drained and restored once "
                                 "a deploy has made its routing health check.")
    actions = []
    if checks is not None and region.state in services.SWITCHABLE:
        if region.traffic != Traffic.DRAINED and has_role(user, OPERATOR):
            actions.append(("drain", "Drain…", "danger"))
        if region.traffic != Traffic.SERVING and has_role(user, OPERATOR):
            actions.append(("restore", "Restore…", ""))
        if region.traffic != Traffic.FORCED and has_role(user, ADMIN):
            actions.append(("force", "Force serving…", "secondary"))
    reading = RoutingReading.objects.filter(region=region).first()
    return {"traffic_last": last, "traffic_checks": checks, "traffic_missing": missing,
            "traffic_deployed": deployed,
            "traffic_reading": reading,
            "traffic_drift": reading.current_drift() if reading else "",
            "traffic_actions": actions,
            "traffic_alarm": routing.alarm_name(region.application.slug, region.code),
            "traffic_control_region": routing.control_region(region.application)}


@role_required(VIEWER)
@require_http_methods(["GET", "POST"])
def change(request, slug, code, action):
    if action not in ACTIONS:
        raise Http404("No such traffic action.")
    state = ACTIONS[action]
    needed = ADMIN if state == Traffic.FORCED else OPERATOR
    if not has_role(request.user, needed):
        raise PermissionDenied(f"This needs the {needed} role.")
    application = get_object_or_404(Application, slug=slug)
    region = get_object_or_404(application.regions.all(), code=code)
    if request.method == "POST":
        try:
            done = services.change_traffic(application, code, state, Actor.from_request(request),
                                           request.POST.get("reason", "").strip())
        except services.TrafficError as exc:
            messages.error(request, str(exc))
            return redirect(region)
        if done.status == ChangeStatus.FAILED:
            messages.error(request, services.failure_message(done))
        else:
            messages.success(request, _done_message(done))
        return redirect(region)
    views = services.region_views(application)
    refusal = services.guard.refusal(views, code, state, application.min_serving)
    before = {a.client: a.answer for a in dns.predicted(views)}
    after = dns.predicted(views, (code, state))
    rows = [{"client": a.client, "before": before.get(a.client), "after": a.answer,
             "moves": before.get(a.client) != a.answer} for a in after]
    return render(request, "traffic/confirm.html", {
        "application": application, "region": region, "action": action, "state": state,
        "state_label": Traffic(state).label, "rows": rows, "refusal": refusal,
    }, status=409 if refusal else 200)


def _done_message(change: TrafficChange) -> str:
    took = change.seconds_to_route53
    verb = {"drained": "drained", "serving": "restored", "forced": "forced to serve"}[
        change.to_state]
    text = f"{change.region.code} is {verb}"
    if change.path in ("route53", "both") and took is not None:
        text += f": Route 53 updated {took:.1f} s after the request"
    elif change.path == "cloudwatch":
        text += (": Route 53's API did not answer, so the drain alarm in the control region "
                 "acted (the data plane)")
    return text + "."


@require_GET
@role_required(VIEWER)
def dns_matrix(request, slug):
    """The application page's "clients near → served by" matrix (polled): the stored answers,
    or "being read" while a worker reads them."""
    application = get_object_or_404(Application, slug=slug)
    return render(request, "traffic/_dns_matrix.html",
                  {"application": application, "dns": dns.for_page(application),
                   "reading": True})


def served_by(checked) -> dict[str, str | None] | None:
    """Client region → the region answering it, from answers already read (for the banner)."""
    if checked is None:
        return None
    return {a.client: a.answer for a in checked.answers}
