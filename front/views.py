"""Pages that compose several apps: the application overview (inventory, watch, rollouts),
its live tiles, and the region page (inventory, watch, audit, sandbox faults). Each app
contributes its context through one function; this layer only puts them together."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from accounts.audit import audit_entries
from accounts.roles import VIEWER, role_required
from deployer.bootstrap import region_bootstrap_context
from deployer.summary import last_results_by_region, overview_context
from regions.models import Application, Region, RegionState
from traffic import dns
from traffic.drill_views import drill_context
from traffic.views import region_traffic_context, served_by
from watch import summary
from watch.series import parse_range


@login_not_required
@require_GET
def healthz(request):
    """Liveness probe: the process answers and the database is reachable."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any database failure means not ready
        return JsonResponse({"status": "error", "database": str(exc)[:200]}, status=503)
    return JsonResponse({"status": "ok"})


@require_GET
@role_required(VIEWER)
def application_detail(request, slug):
    application = get_object_or_404(Application, slug=slug)
    regions = list(
        application.regions.exclude(state=RegionState.REMOVED).order_by("role", "code")
    )
    checked = dns.cached(application)  # the matrix asks Route 53 after the page has loaded
    context = {
        "application": application, "regions": regions,
        "deployed": any(r.state not in (RegionState.PLANNED, RegionState.REMOVED)
                        for r in regions),
        **summary.dashboard_context(application, last_results_by_region(application),
                                    rng=parse_range(request.GET.get("range")),
                                    served_by=served_by(checked)),
        "dns": checked,
        "tiles_url": "front:overview_tiles",
        **overview_context(application, request.user),
        **drill_context(application, request.user),
    }
    return render(request, "front/application_detail.html", context)


@require_GET
@role_required(VIEWER)
def overview_tiles(request, slug):
    """The overview's region tiles: the watch's tiles with each region's last rollout."""
    application = get_object_or_404(Application, slug=slug)
    context = {**summary.tiles_context(application, last_rollouts=last_results_by_region(
        application), rng=parse_range(request.GET.get("range")),
        served_by=served_by(dns.cached(application))),
        "tiles_url": "front:overview_tiles"}
    return render(request, "watch/_dashboard.html#region_tiles", context)


@require_GET
@role_required(VIEWER)
def region_detail(request, slug, code):
    region = get_object_or_404(Region.objects.select_related("application"),
                               application__slug=slug, code=code)
    application = region.application
    context = {
        "application": application, "region": region,
        "history": audit_entries(application=application.slug).filter(
            object_type="region", object_id=str(region.pk))[:20],
        **summary.region_context(region, rng=parse_range(request.GET.get("range"))),
        **region_bootstrap_context(region),
        **region_traffic_context(region, request.user),
        **drill_context(application, request.user, region),
    }
    if settings.SANDBOX:
        context.update(
            region_faults=sorted(region.sandbox_faults.values_list("kind", flat=True)),
            fault_actions=[("outage", "Simulate outage"), ("lag", "Simulate replication lag"),
                           ("restore", "Restore")],
        )
    return render(request, "front/region_detail.html", context)
