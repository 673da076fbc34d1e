"""Alert pages: the history, channels (admins), rules per application (admins) and maintenance
windows (operators). Every change goes through alerts.services."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.audit import Actor
from accounts.roles import ADMIN, OPERATOR, VIEWER, role_required
from lib.forms import apply_errors
from regions.models import Application

from . import delivery, services
from .forms import ChannelForm, HistoryFilter, RulesForm, WindowForm
from .models import AlertRules, Channel, Delivery, MaintenanceWindow


@require_GET
@role_required(VIEWER)
def alert_list(request):
    form = HistoryFilter(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    page = Paginator(delivery.history(data.get("application", ""), data.get("status", "")),
                     50).get_page(request.GET.get("page"))
    return render(request, "alerts/alert_list.html", {"form": form, "page": page})


@require_GET
@role_required(ADMIN)
def channel_list(request):
    tested = None
    if request.GET.get("tested", "").isdigit():
        tested = Delivery.objects.filter(pk=request.GET["tested"], is_test=True).first()
    channels = Channel.objects.all()
    return render(request, "alerts/channel_list.html", {"channels": channels, "tested": tested})


def _channel_data(form: ChannelForm) -> dict:
    return {k: form.cleaned_data[k] for k in ("name", "url", "applications", "events",
                                               "enabled")}


@require_http_methods(["GET", "POST"])
@role_required(ADMIN)
def channel_create(request):
    form = ChannelForm(request.POST or None, initial={"enabled": True})
    if request.method == "POST" and form.is_valid():
        try:
            channel = services.create_channel(_channel_data(form), Actor.from_request(request))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Channel {channel.name} added.")
            return redirect("alerts:channel_list")
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "alerts/channel_form.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@role_required(ADMIN)
def channel_edit(request, pk):
    channel = get_object_or_404(Channel, pk=pk)
    initial = {"name": channel.name, "applications": channel.applications,
               "events": channel.events, "enabled": channel.enabled}
    form = ChannelForm(request.POST or None, initial=initial, creating=False)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_channel(channel, _channel_data(form), Actor.from_request(request))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Channel {form.cleaned_data['name']} saved.")
            return redirect("alerts:channel_list")
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "alerts/channel_form.html", {"form": form, "channel": channel},
                  status=status)


@require_POST
@role_required(ADMIN)
def channel_delete(request, pk):
    channel = get_object_or_404(Channel, pk=pk)
    services.delete_channel(channel, Actor.from_request(request))
    messages.success(request, f"Channel {channel.name} removed.")
    return redirect("alerts:channel_list")


@require_POST
@role_required(ADMIN)
def channel_test(request, pk):
    channel = get_object_or_404(Channel, pk=pk)
    row = services.test_channel(channel, Actor.from_request(request))
    return redirect(f"{reverse('alerts:channel_list')}?tested={row.pk}")


@require_GET
@role_required(ADMIN)
def delivery_status(request, pk):
    row = get_object_or_404(Delivery.objects.prefetch_related("attempt_log"), pk=pk)
    return render(request, "alerts/_delivery.html", {"delivery": row})


@require_GET
@role_required(VIEWER)
def rule_list(request):
    applications = Application.objects.order_by("slug")
    saved = {r.application_id: r for r in AlertRules.objects.all()}
    rows = [(a, saved.get(a.pk) or AlertRules(application=a)) for a in applications]
    return render(request, "alerts/rule_list.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
@role_required(ADMIN)
def rule_edit(request, slug):
    application = get_object_or_404(Application, slug=slug)
    form = RulesForm(request.POST or None, instance=services.rules_for(application))
    if request.method == "POST" and form.is_valid():
        changes = {k: form.cleaned_data[k] for k in form.Meta.fields}
        try:
            services.update_rules(application, changes, Actor.from_request(request))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Alert rules of {application.slug} saved.")
            return redirect("alerts:rule_list")
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "alerts/rule_form.html",
                  {"form": form, "application": application}, status=status)


def _window_page(request, form, status=200):
    now = timezone.now()
    windows = MaintenanceWindow.objects.select_related("application")
    return render(request, "alerts/window_list.html", {
        "form": form, "now": now,
        "current": [w for w in windows.filter(ends_at__gt=now).order_by("starts_at")],
        "past": windows.filter(ends_at__lte=now)[:50],
    }, status=status)


@require_GET
@role_required(VIEWER)
def window_list(request):
    now = timezone.now().replace(second=0, microsecond=0)
    form = WindowForm(initial={"starts_at": now, "ends_at": now + timedelta(hours=1)})
    return _window_page(request, form)


@require_POST
@role_required(OPERATOR)
def window_create(request):
    form = WindowForm(request.POST)
    if form.is_valid():
        try:
            services.create_window(form.cleaned_data["application"], form.data_for_service(),
                                   Actor.from_request(request))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Maintenance window saved: failure messages for the "
                                      "regions it covers wait until it ends.")
            return redirect("alerts:window_list")
    return _window_page(request, form, status=400)


@require_POST
@role_required(OPERATOR)
def window_end(request, pk):
    window = get_object_or_404(MaintenanceWindow, pk=pk)
    services.end_window(window, Actor.from_request(request))
    messages.success(request, "Maintenance window ended: failures it held go out with the next "
                              "evaluation.")
    return redirect("alerts:window_list")
