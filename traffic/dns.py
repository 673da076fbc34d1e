"""What Route 53 answers clients near each region: the "clients near → served by" matrix.

On AWS: TestDNSAnswer (traffic.dnsquery, within the Route 53 request budget). In the sandbox
moto has no TestDNSAnswer, so the answer is worked out here the way Route 53's latency routing
works: among the records whose health check is healthy, the one closest to the client; when
every record is unhealthy, Route 53 fails open and answers as if all were healthy. Such answers
are labelled simulated.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db.models import Max
from django.utils import timezone

from regions.models import Application, Traffic

from . import geo

# Answers read within this long after a traffic change, or with an error, are kept only this
# many seconds: Route 53 takes seconds to move, and a passing error should not stay a minute.
SETTLE_SECONDS = 10
UNASKED = ("planned", "removed")
# A refresh asked for by a page is asked for again after this, should its task be lost.
QUEUED_SECONDS = 30


@dataclass(frozen=True)
class Answer:
    client: str  # the region the client is near
    answer: str | None  # the region Route 53 answers with; None when it answers nothing
    simulated: bool = False
    note: str = ""


@dataclass(frozen=True)
class Record:
    """One latency record: its region and whether Route 53 counts it healthy now."""

    region: str
    healthy: bool


def latency_answer(client: str, records: list[Record]) -> str | None:
    """Route 53's latency rule: the nearest healthy record; all unhealthy fails open."""
    healthy = [r.region for r in records if r.healthy]
    return geo.nearest(client, healthy or [r.region for r in records])


def routing_healthy(threshold: int | None, endpoint_healthy: bool | None,
                    control_healthy: bool | None) -> bool:
    """A CALCULATED check: healthy when at least `threshold` children are. A child with no
    reading counts healthy, as a new Route 53 check does; a missing threshold counts as the
    number of children (serving)."""
    children = [endpoint_healthy is not False, control_healthy is not False]
    wanted = len(children) if threshold is None else threshold
    return sum(children) >= wanted


def record_health(traffic: str, healthy: bool | None) -> bool:
    """What a region's routing check says for a traffic state and endpoint health."""
    if traffic == Traffic.FORCED:
        return True
    return traffic == Traffic.SERVING and healthy is not False


def predicted(views, change: tuple[str, str] | None = None) -> list[Answer]:
    """Answers for clients near each region from the inventory (guard.RegionView), after
    `change` (region, new traffic state) when given: what the confirmation page shows."""
    states = {v.code: v.traffic for v in views}
    if change is not None:
        states[change[0]] = change[1]
    records = [Record(v.code, record_health(states[v.code], v.healthy)) for v in views]
    return [Answer(v.code, latency_answer(v.code, records), simulated=True) for v in views]


def _record_sets(application) -> list[dict]:
    """The latency records of the application's domain in its zone (one paged call)."""
    from lib import aws, route53_budget

    client = route53_budget.route53_client(application)
    name = application.domain_name.rstrip(".") + "."
    found = []
    try:
        pages = client.get_paginator("list_resource_record_sets").paginate(
            HostedZoneId=application.hosted_zone_id, StartRecordName=name)
        for page in pages:
            for record in page.get("ResourceRecordSets", []):
                if record["Name"] != name:
                    return found
                if record.get("Region") and record.get("SetIdentifier"):
                    found.append(record)
    except route53_budget.Route53Busy:
        raise
    except Exception as exc:
        raise aws.AwsError.wrap(exc, service="route53", region="us-east-1") from exc
    return found


def simulated_answers(application) -> list[Answer]:
    """The sandbox's answers: moto's latency records, the thresholds of the routing checks
    they use, the drain alarms' states and the emitted health, by Route 53's latency rule."""
    from . import routing
    from .health import current_health

    regions = {r.code: r for r in application.regions.exclude(state__in=("planned", "removed"))}
    records = _record_sets(application)
    thresholds = routing.read_thresholds(application)
    alarms = routing.alarm_states(application, list(regions))
    health = current_health(application)
    evaluated = []
    for record in records:
        code = record["Region"]
        region = regions.get(code)
        endpoint = health.get(region.pk) if region else None
        check = record.get("HealthCheckId")
        if not check:
            healthy = True  # a record without a health check is always healthy
        elif region is not None and check == (region.outputs or {}).get("RoutingCheckId"):
            healthy = routing_healthy(thresholds.get(check), endpoint,
                                      alarms.get(code) != "ALARM")
        else:
            healthy = endpoint is not False
        evaluated.append(Record(code, healthy))
    return [Answer(code, latency_answer(code, evaluated), simulated=True)
            for code in sorted(regions, key=lambda c: (c != application.main_region, c))]


@dataclass(frozen=True)
class Checked:
    """The answers for every client location of an application, and when they were read."""

    answers: list[Answer]
    checked_at: datetime
    simulated: bool = False
    errors: list[str] = field(default_factory=list)


def _key(application) -> str:
    return f"traffic:dns:{application.pk}"


def _codes(application) -> list[str]:
    codes = application.regions.exclude(state__in=UNASKED).values_list("code", flat=True)
    return sorted(codes, key=lambda c: (c != application.main_region, c))


def _last_change(application) -> datetime | None:
    return application.regions.aggregate(at=Max("traffic_changed_at"))["at"]


def cached(application) -> Checked | None:
    """The stored answers, unless the inventory's traffic changed after they were read."""
    found = cache.get(_key(application))
    if found is None:
        return None
    changed = _last_change(application)
    if changed is not None and changed > found.checked_at:
        return None
    return found


def check(application, *, fresh: bool = False) -> Checked:
    """The answers, from the cache when fresh enough (TRAFFIC_DNS_TTL) unless `fresh`."""
    if not fresh and (found := cached(application)) is not None:
        return found
    codes = _codes(application)
    simulated = settings.SANDBOX
    try:
        found = (simulated_answers(application) if simulated else _asked(application, codes))
    except Exception as exc:  # noqa: BLE001 - every failure becomes a note the operator reads
        found = [Answer(code, None, simulated=simulated, note=_sentence(exc)) for code in codes]
    result = Checked(found, timezone.now(), simulated, sorted({a.note for a in found
                                                               if a.answer is None and a.note}))
    changed = _last_change(application)
    recent = changed is not None and result.checked_at - changed < timedelta(
        seconds=settings.TRAFFIC_DNS_TTL)
    ttl = SETTLE_SECONDS if (result.errors or recent) else settings.TRAFFIC_DNS_TTL
    cache.set(_key(application), result, timeout=max(min(ttl, settings.TRAFFIC_DNS_TTL), 1))
    return result


def for_page(application) -> Checked | None:
    """What a page shows: the stored answers while fresh. Otherwise a worker is asked to read
    them (once per application until it has), and None says they are being read: a page never
    waits on Route 53's request budget itself."""
    found = cached(application)
    if found is None and cache.add(_queued_key(application), True, timeout=QUEUED_SECONDS):
        current_app.send_task("traffic.dns_tasks.refresh_application_dns",
                              args=(application.pk,))
    return found


def refresh(application_id: int) -> None:
    """The worker's side of for_page: read the answers now."""
    application = Application.objects.filter(pk=application_id).first()
    if application is not None:
        check(application, fresh=True)
        cache.delete(_queued_key(application))


def _queued_key(application) -> str:
    return f"traffic:dns:queued:{application.pk}"


def answers(application, *, fresh: bool = False) -> list[Answer]:
    """What Route 53 answers clients near each region (main region first): TestDNSAnswer on
    AWS, the simulation in the sandbox; cached for TRAFFIC_DNS_TTL seconds unless `fresh`."""
    return check(application, fresh=fresh).answers


def _asked(application, codes: list[str]) -> list[Answer]:
    from . import dnsquery

    return dnsquery.query_answers(application, codes, _record_sets(application))


def _sentence(exc: Exception) -> str:
    from lib import aws, route53_budget

    if isinstance(exc, route53_budget.Route53Busy):
        return ("Route 53's request budget had no free slot (other calls are using it); the "
                "next refresh asks again.")
    return str(aws.AwsError.wrap(exc, service="route53", region="us-east-1"))


def refresh_next(now: datetime | None = None) -> str | None:
    """Refresh the application whose answers are oldest (one per call, so a beat task stays
    within the Route 53 budget); None when every application's answers are fresh enough."""
    now = now or timezone.now()
    oldest, oldest_at = None, None
    for application in Application.objects.filter(regions__state="active").distinct():
        found = cache.get(_key(application))
        at = found.checked_at if found is not None else None
        if at is None:
            oldest, oldest_at = application, None
            break
        if oldest_at is None or at < oldest_at:
            oldest, oldest_at = application, at
    if oldest is None:
        return None
    if oldest_at is not None and (now - oldest_at).total_seconds() < settings.TRAFFIC_DNS_TTL / 2:
        return None
    check(oldest, fresh=True)
    return oldest.slug
