"""The poll cycle: read health, replication lag and replica state from AWS, store samples.

Cost of a cycle (DESIGN §4), for the applications' watched regions:
  health       one GetMetricData in us-east-1 per AWS identity (role), 250 health checks a call
  replication  one GetMetricData per (source region, identity), whatever the number of pairs
  replicas     one DescribeTable per application, in its main region
so 1 + R + A calls for R distinct regions and A applications under one identity, and no
Route 53 API calls at all. A failed call marks only its own data stale; the cycle goes on."""

import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Avg, Count, Max, OuterRef, Prefetch, Subquery
from django.db.models.functions import TruncHour
from django.utils import timezone

from lib import aws, cloudwatch
from regions.models import Application, Region, RegionState

from .models import (
    HealthChange,
    HealthSample,
    PollState,
    ReplicationRollup,
    ReplicationSample,
    is_healthy,
)

log = logging.getLogger(__name__)

# Regions with nothing deployed, or nothing left, have no metrics to read.
UNWATCHED_STATES = (RegionState.PLANNED, RegionState.REMOVED)
# CloudWatch may fill in recent minutes late; re-reading them is an idempotent upsert.
MIN_LOOKBACK = timedelta(minutes=10)
# Catching up after downtime stays under GetMetricData's 100,800 points per call.
MAX_LOOKBACK = timedelta(hours=3)


def poll_interval() -> int:
    return settings.POLL_INTERVAL


def health_key(application) -> str:
    if not application.role_arn:
        return "health"
    return "health:" + hashlib.sha256(application.role_arn.encode()).hexdigest()[:16]


def replication_key(application, source: str) -> str:
    return f"replication:{application.slug}:{source}"


def replicas_key(application) -> str:
    return f"replicas:{application.slug}"


def poll_keys(application, codes: list[str]) -> list[str]:
    """Every poll source whose data an application's dashboard shows."""
    return [health_key(application), replicas_key(application)] + [
        replication_key(application, code) for code in codes
    ]


@dataclass
class CycleReport:
    started_at: datetime
    calls: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    health: dict[str, dict] = field(default_factory=dict)
    lags: dict[tuple[str, str, str], tuple[datetime, float] | None] = field(default_factory=dict)
    replicas: dict[str, dict] = field(default_factory=dict)

    def summary(self) -> dict:
        return {
            "calls": len(self.calls),
            "errors": [f"{key}: {message}" for key, message in self.errors],
            "regions": len(self.health),
            "pairs": len(self.lags),
        }


def _minute(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def _client(service: str, region: str, application, report: CycleReport):
    client = aws.client(service, region, application)

    def count(model, **kwargs):
        report.calls.append(f"{service}.{model.name} {region}")

    client.meta.events.register("before-call", count)
    return client


def _window(states: dict[str, PollState], keys: list[str], now: datetime):
    """From a little before the oldest last success (capped), to the end of this minute."""
    end = _minute(now) + timedelta(minutes=1)
    successes = [states[k].last_success_at for k in keys if k in states]
    if not successes or any(s is None for s in successes):
        start = end - MAX_LOOKBACK
    else:
        start = min(successes) - timedelta(minutes=2)
        start = max(end - MAX_LOOKBACK, min(start, end - MIN_LOOKBACK))
    return _minute(start), end


def _succeeded(states: dict, key: str, now: datetime, detail: dict | None = None) -> None:
    values = {"last_attempt_at": now, "last_success_at": now}
    if detail is not None:
        values["detail"] = detail
    states[key], _ = PollState.objects.update_or_create(key=key, defaults=values)


def _failed(states: dict, key: str, now: datetime, exc: Exception, report) -> None:
    exc = aws.AwsError.wrap(exc)
    message = str(exc)[:2000]
    states[key], _ = PollState.objects.update_or_create(
        key=key,
        defaults={"last_attempt_at": now, "last_error_at": now, "last_error": message,
                  "error_code": exc.code[:64]},
    )
    report.errors.append((key, message))
    log.warning("poll %s failed: %s", key, message)


def watched_applications() -> list[Application]:
    regions = Region.objects.exclude(state__in=UNWATCHED_STATES).order_by("code")
    return list(
        Application.objects.prefetch_related(Prefetch("regions", queryset=regions,
                                                      to_attr="watched"))
    )


def poll_cycle(now: datetime | None = None) -> CycleReport:
    """One cycle over every application; returns what it read, the calls and the errors."""
    now = now or timezone.now()
    report = CycleReport(started_at=now)
    applications = [app for app in watched_applications() if app.watched]
    states = {s.key: s for s in PollState.objects.all()}
    poll_health(applications, states, now, report)
    poll_replication(applications, states, now, report)
    for application in applications:
        poll_replicas(application, states, now, report)
    return report


def _by_identity(applications) -> dict[str, list[Application]]:
    groups: dict[str, list[Application]] = defaultdict(list)
    for application in applications:
        groups[application.role_arn].append(application)
    return groups


def poll_health(applications, states, now, report: CycleReport) -> None:
    for members in _by_identity(applications).values():
        regions = [r for app in members for r in app.watched if r.health_check_id]
        if not regions:
            continue
        key = health_key(members[0])
        start, end = _window(states, [key], now)
        queries = [q for r in regions for q in cloudwatch.health_queries(r.health_check_id, r.pk)]
        try:
            client = _client("cloudwatch", "us-east-1", members[0], report)
            points = cloudwatch.get_metric_data(client, queries, start, end)
            store_health(regions, points)
        except Exception as exc:  # one source failing must not stop the cycle
            _failed(states, key, now, exc, report)
            continue
        _succeeded(states, key, now)
        slugs = {r.pk: app.slug for app in members for r in app.watched}
        for region in regions:
            status = points[(region.pk, "status")]
            percentage = points[(region.pk, "percentage")]
            report.health[f"{slugs[region.pk]}/{region.code}"] = {
                "at": status[-1][0] if status else None,
                "status": status[-1][1] if status else None,
                "percentage_healthy": percentage[-1][1] if percentage else None,
            }


def store_health(regions: list[Region], points: dict) -> None:
    rows: dict[tuple[int, datetime], HealthSample] = {}
    for region in regions:
        for at, value in points[(region.pk, "status")]:
            rows.setdefault((region.pk, _minute(at)), HealthSample(region=region, at=_minute(at)))
            rows[(region.pk, _minute(at))].status = value
        for at, value in points[(region.pk, "percentage")]:
            rows.setdefault((region.pk, _minute(at)), HealthSample(region=region, at=_minute(at)))
            rows[(region.pk, _minute(at))].percentage_healthy = value
    if rows:
        HealthSample.objects.bulk_create(
            list(rows.values()), update_conflicts=True, unique_fields=["region", "at"],
            update_fields=["status", "percentage_healthy"],
        )
    record_health_changes(regions, points)


def record_health_changes(regions: list[Region], points: dict) -> None:
    """Write a HealthChange at each minute where the status differs from the one before."""
    latest = HealthChange.objects.filter(region=OuterRef("pk")).order_by("-at")
    known = {
        r.pk: (r.change_at, r.change_healthy)
        for r in Region.objects.filter(pk__in=[r.pk for r in regions]).annotate(
            change_at=Subquery(latest.values("at")[:1]),
            change_healthy=Subquery(latest.values("healthy")[:1]),
        )
    }
    changes = []
    revised: list[tuple[int, datetime, bool]] = []
    for region in regions:
        since, healthy = known.get(region.pk, (None, None))
        for at, value in sorted(points[(region.pk, "status")]):
            at = _minute(at)
            if since is not None and at < since:
                continue
            now_healthy = is_healthy(value)
            if since is not None and at == since:
                # A later datapoint revised the minute of the last change (Minimum fell to 0).
                if now_healthy != healthy:
                    revised.append((region.pk, at, now_healthy))
                    healthy = now_healthy
                continue
            if healthy is None or now_healthy != healthy:
                changes.append(HealthChange(region=region, at=at, healthy=now_healthy,
                                            previous=healthy))
                since, healthy = at, now_healthy
    for region_id, at, now_healthy in revised:
        change = HealthChange.objects.filter(region_id=region_id, at=at).first()
        if change is None:
            continue
        if change.previous is not None and change.previous == now_healthy:
            change.delete()  # the flip was undone within its own minute
        else:
            change.healthy = now_healthy
            change.save(update_fields=["healthy"])
    if changes:
        HealthChange.objects.bulk_create(changes, ignore_conflicts=True)


def poll_replication(applications, states, now, report: CycleReport) -> None:
    groups: dict[tuple[str, str], list[tuple[Application, str, list[str]]]] = defaultdict(list)
    for application in applications:
        codes = [r.code for r in application.watched]
        if len(codes) < 2:
            continue
        for source in codes:
            receiving = [c for c in codes if c != source]
            groups[(source, application.role_arn)].append((application, source, receiving))
    rolled: list[int] = []
    succeeded: dict[str, dict] = {}
    oldest = None
    for (source, _role), members in sorted(groups.items()):
        keys = [replication_key(app, source) for app, _, _ in members]
        start, end = _window(states, keys, now)
        queries = [
            cloudwatch.replication_query(app.table_name, dst, (app.pk, source, dst))
            for app, _, receiving in members
            for dst in receiving
        ]
        try:
            client = _client("cloudwatch", source, members[0][0], report)
            points = cloudwatch.get_metric_data(client, queries, start, end)
            store_replication(points)
        except Exception as exc:  # one source failing must not stop the cycle
            for key in keys:
                _failed(states, key, now, exc, report)
            continue
        for app, src, receiving in members:
            key = replication_key(app, src)
            succeeded[key] = {"latest": latest_readings(states.get(key), {
                dst: points[(app.pk, src, dst)][-1] for dst in receiving
                if points[(app.pk, src, dst)]
            })}
        rolled.extend(app.pk for app, _, _ in members)
        oldest = start if oldest is None else min(oldest, start)
        slugs = {app.pk: app.slug for app, _, _ in members}
        for (app_id, src, dst), series in points.items():
            report.lags[(slugs[app_id], src, dst)] = series[-1] if series else None
    if rolled:
        try:
            refresh_rollups(sorted(set(rolled)), oldest)
        except Exception:  # sparklines lag one cycle; the samples themselves are stored
            log.exception("refreshing replication rollups failed")
    # Marked after the rollups: readers key cached sparklines on the last success time.
    for key, detail in succeeded.items():
        _succeeded(states, key, now, detail)


def latest_readings(state: PollState | None, new: dict[str, tuple[datetime, float]]) -> dict:
    """The newest reading per receiving region, kept across cycles that bring nothing new.

    The dashboard reads these from the poll state it loads anyway, not from the samples."""
    latest = dict((state.detail or {}).get("latest", {})) if state else {}
    for receiving, (at, value) in new.items():
        at = _minute(at).isoformat()
        if receiving not in latest or latest[receiving][0] <= at:
            latest[receiving] = [at, value]
    return latest


def store_replication(points: dict) -> None:
    rows = [
        ReplicationSample(application_id=app_id, source=src, receiving=dst, at=_minute(at),
                          latency_ms=value)
        for (app_id, src, dst), series in points.items()
        for at, value in series
    ]
    if rows:
        ReplicationSample.objects.bulk_create(
            rows, update_conflicts=True,
            unique_fields=["application", "source", "receiving", "at"],
            update_fields=["latency_ms"],
        )


def refresh_rollups(application_ids: list[int], since: datetime) -> None:
    """Recompute the hourly rollups of every hour touched since `since`."""
    hour = since.replace(minute=0, second=0, microsecond=0)
    aggregates = (
        ReplicationSample.objects.filter(application_id__in=application_ids, at__gte=hour)
        .annotate(bucket=TruncHour("at"))
        .values("application_id", "source", "receiving", "bucket")
        .annotate(avg_ms=Avg("latency_ms"), max_ms=Max("latency_ms"), samples=Count("id"))
        .order_by()
    )
    rows = [ReplicationRollup(**row) for row in aggregates]
    if rows:
        ReplicationRollup.objects.bulk_create(
            rows, update_conflicts=True,
            unique_fields=["application", "source", "receiving", "bucket"],
            update_fields=["avg_ms", "max_ms", "samples"],
        )


def poll_replicas(application, states, now, report: CycleReport) -> None:
    key = replicas_key(application)
    try:
        client = _client("dynamodb", application.main_region, application, report)
        try:
            table = client.describe_table(TableName=application.table_name)["Table"]
        except Exception as exc:
            raise aws.AwsError.wrap(exc, service="dynamodb",
                                    region=application.main_region) from exc
    except Exception as exc:  # one source failing must not stop the cycle
        _failed(states, key, now, exc, report)
        return
    detail = {
        "table_status": table.get("TableStatus", ""),
        # Absent when the table has no replicas, or when the AWS emulator does not report them.
        "reported": "Replicas" in table,
        "replicas": {
            r["RegionName"]: r.get("ReplicaStatus", "")
            for r in table.get("Replicas", [])
        },
    }
    _succeeded(states, key, now, detail)
    report.replicas[application.slug] = detail
