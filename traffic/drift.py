"""Drift: a routing check's threshold changed outside Meridian (the console, the CLI, another
tool). Each poll cycle reads every CALCULATED check's threshold with one ListHealthChecks per
account (routing.read_thresholds) and compares it with the region's traffic state.

A drain that acted only through the drain alarm (Route 53's API did not answer) leaves the
threshold at serving's; that is what Meridian did, not drift."""

import logging

from django.utils import timezone

from lib import aws, route53_budget
from regions.models import Application, Region, Traffic

from . import routing
from .models import ChangeStatus, Path, RoutingReading, TrafficChange

log = logging.getLogger(__name__)


def expected(traffic: str, drained_by_alarm_only: bool = False) -> tuple[int, ...]:
    """The thresholds Meridian may have left for a traffic state (the first is its own)."""
    wanted = routing.threshold(traffic)
    if traffic == Traffic.DRAINED and drained_by_alarm_only:
        return wanted, routing.threshold(Traffic.SERVING)
    return (wanted,)


def finding(traffic: str, seen: int | None, drained_by_alarm_only: bool = False,
            found: bool = True) -> str:
    """In words, what was changed outside Meridian; "" when the threshold is as expected."""
    if not found:
        return "changed outside Meridian: the routing health check no longer exists"
    allowed = expected(traffic, drained_by_alarm_only)
    if seen in allowed:
        return ""
    meaning = routing.state_of_threshold(seen)
    said = f" ({Traffic(meaning).label.lower()})" if meaning else ""
    return (f"changed outside Meridian: threshold {seen if seen is not None else 'none'} seen"
            f"{said}, {allowed[0]} expected ({Traffic(traffic).label.lower()})")


def _alarm_only_drains(regions: list[Region]) -> set[int]:
    """Regions whose drain in force acted only through the drain alarm."""
    drained = [r.pk for r in regions if r.traffic == Traffic.DRAINED]
    last = {}
    for change in (TrafficChange.objects.filter(region_id__in=drained, to_state=Traffic.DRAINED,
                                                status=ChangeStatus.APPLIED)
                   .order_by("region_id", "requested_at")):
        last[change.region_id] = change.path
    return {pk for pk, path in last.items() if path == Path.CLOUDWATCH}


def routed_regions() -> list[Region]:
    """Deployed regions whose outputs name a routing check."""
    regions = (Region.objects.select_related("application")
               .exclude(state__in=("planned", "removed")).order_by("application_id", "code"))
    return [r for r in regions if (r.outputs or {}).get("RoutingCheckId")]


def check_all() -> dict:
    """One cycle: read the thresholds (one list per account), store a reading per region."""
    regions = routed_regions()
    by_role: dict[str, list[Region]] = {}
    for region in regions:
        by_role.setdefault(region.application.role_arn or "", []).append(region)
    alarm_only = _alarm_only_drains(regions)
    now = timezone.now()
    report = {"regions": len(regions), "drift": [], "errors": []}
    for members in by_role.values():
        application: Application = members[0].application
        try:
            thresholds, error = routing.read_thresholds(application), ""
        except route53_budget.Route53Busy:
            thresholds, error = None, ("Route 53's request budget had no free slot; the next "
                                       "poll reads the threshold again.")
        except aws.AwsError as exc:
            thresholds, error = None, str(exc)
        for region in members:
            report_drift = _store(region, thresholds, error, region.pk in alarm_only, now)
            if report_drift:
                report["drift"].append(f"{region.application.slug}/{region.code}: {report_drift}")
        if error:
            report["errors"].append(error)
            log.warning("routing drift: %s", error)
    return report


def _store(region: Region, thresholds: dict | None, error: str, alarm_only: bool,
           now) -> str:
    if thresholds is None:
        # The read failed: keep what was seen last, say why it is not newer.
        RoutingReading.objects.update_or_create(region=region, defaults={
            "error": error}, create_defaults={"traffic": region.traffic, "error": error,
                                              "read_at": now})
        return ""
    check = region.outputs["RoutingCheckId"]
    seen = thresholds.get(check)
    drift = finding(region.traffic, seen, alarm_only, found=check in thresholds)
    RoutingReading.objects.update_or_create(region=region, defaults={
        "threshold": seen, "traffic": region.traffic, "drift": drift, "error": "",
        "read_at": now})
    return drift


def status_fields(application) -> dict[str, dict]:
    """Per region code, the status API's drift fields (watch.api asks through its hook)."""
    readings = RoutingReading.objects.filter(region__application=application).select_related(
        "region")
    return {r.region.code: {"traffic_drift": r.current_drift(),
                            "routing_threshold": r.threshold} for r in readings}
