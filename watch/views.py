"""The watch fragments the dashboard polls, and the on-demand checker detail."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET

from accounts.roles import VIEWER, role_required
from lib import aws, route53_budget
from regions.models import Application, Region, RegionState

from . import checkers, summary
from .series import parse_range


@require_GET
@role_required(VIEWER)
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    application = get_object_or_404(Application, slug=slug)
    return render(request, "watch/dashboard.html", summary.dashboard_context(
        application, rng=parse_range(request.GET.get("range"))))


def _fragment(request: HttpRequest, slug: str, partial: str, context) -> HttpResponse:
    """A polled part of the dashboard; without htmx, the whole dashboard."""
    application = get_object_or_404(Application, slug=slug)
    if not request.htmx:
        return dashboard(request, slug)
    rng = parse_range(request.GET.get("range"))
    return render(request, f"watch/_dashboard.html#{partial}", context(application, rng=rng))


@require_GET
@role_required(VIEWER)
def region_tiles(request: HttpRequest, slug: str) -> HttpResponse:
    return _fragment(request, slug, "region_tiles", summary.tiles_context)


@require_GET
@role_required(VIEWER)
def replication_matrix(request: HttpRequest, slug: str) -> HttpResponse:
    return _fragment(request, slug, "replication_matrix", summary.matrix_context)


@require_GET
@role_required(VIEWER)
def checker_detail(request: HttpRequest, slug: str, code: str) -> HttpResponse:
    application = get_object_or_404(Application, slug=slug)
    region = get_object_or_404(
        Region.objects.select_related("application").exclude(state=RegionState.REMOVED),
        application=application, code=code,
    )
    context = {"application": application, "watch_region": region, "detail": None, "error": "",
               "busy": False}
    if region.health_check_id:
        try:
            detail = checkers.checker_detail(region)
        except route53_budget.Route53Busy:
            context["busy"] = True
        except aws.AwsError as exc:
            context["error"] = str(exc)
        else:
            for observation in detail["observations"]:
                observation["checked_at"] = parse_datetime(observation["checked_at"] or "")
            detail["fetched_at"] = parse_datetime(detail["fetched_at"])
            context["detail"] = detail
    template = "watch/checker_detail.html"
    if not request.htmx:
        template = "watch/checker_page.html"
    return render(request, template, context)
