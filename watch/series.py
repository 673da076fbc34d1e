"""History as sparkline series over a chosen time range (1 h, 6 h, 24 h, 7 d), bucketed in the
database so a range costs one query and ships one row per bucket, not per minute.

Health comes from the minute samples; lag from the minute samples for short ranges and from
the hourly roll-ups for long ones (the minute rows of a week would be far too many)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Avg, Func, IntegerField, Q

from .models import HealthSample, ReplicationRollup, ReplicationSample


@dataclass(frozen=True)
class Range:
    key: str
    label: str
    step: int  # seconds a point covers
    points: int
    lag_from_rollups: bool

    @property
    def span(self) -> timedelta:
        return timedelta(seconds=self.step * self.points)

    def describe(self) -> str:
        unit = {60: "minute", 300: "5 minutes", 3600: "hour", 21600: "6 hours"}[self.step]
        return f"per {unit}, last {self.label}"


RANGES = {r.key: r for r in (
    Range("1h", "1 h", 60, 60, False),
    Range("6h", "6 h", 300, 72, False),
    Range("24h", "24 h", 3600, 24, True),
    Range("7d", "7 days", 21600, 28, True),
)}
DEFAULT = RANGES["24h"]


def parse_range(value: str | None) -> Range:
    """The range a request asks for; anything unknown is the default, never an error."""
    return RANGES.get(value or "", DEFAULT)


def start_of(rng: Range, now: datetime) -> datetime:
    """The first bucket's start: buckets are aligned to whole steps since the epoch."""
    epoch = int(now.timestamp())
    last = epoch - epoch % rng.step
    return datetime.fromtimestamp(last - (rng.points - 1) * rng.step, tz=now.tzinfo)


class BucketIndex(Func):
    """(at - start) // step as an integer, computed by the database."""

    output_field = IntegerField()

    def __init__(self, expression, start: datetime, step: int):
        super().__init__(expression)
        self.start, self.step = int(start.timestamp()), step

    def as_sql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            sql = f"FLOOR((EXTRACT(EPOCH FROM {column}) - %s) / %s)::integer"
        else:
            sql = f"CAST((CAST(strftime('%%s', {column}) AS INTEGER) - %s) / %s AS INTEGER)"
        return sql, (*params, self.start, self.step)


def health_series(region_ids: list[int], rng: Range, now: datetime) -> dict[int, list]:
    """Share of healthy minutes per bucket, per region: one query."""
    start = start_of(rng, now)
    rows = (
        HealthSample.objects.filter(region_id__in=region_ids, at__gte=start, status__isnull=False)
        .annotate(bucket=BucketIndex("at", start, rng.step))
        .values_list("region_id", "bucket").annotate(share=Avg("status")).order_by()
    )
    series = {pk: [None] * rng.points for pk in region_ids}
    for region_id, bucket, share in rows:
        if 0 <= bucket < rng.points:
            series[region_id][bucket] = share
    return series


def lag_series(application_id: int, rng: Range, now: datetime,
               codes: set[str] | None = None) -> dict[tuple[str, str], list]:
    """Average lag per bucket, per pair (only pairs touching `codes` when given): one query."""
    start = start_of(rng, now)
    if rng.lag_from_rollups:
        rows = ReplicationRollup.objects.filter(application_id=application_id, bucket__gte=start)
        at, value = "bucket", "avg_ms"
    else:
        rows = ReplicationSample.objects.filter(application_id=application_id, at__gte=start)
        at, value = "at", "latency_ms"
    if codes is not None:
        rows = rows.filter(Q(source__in=codes) | Q(receiving__in=codes))
    rows = (rows.annotate(b=BucketIndex(at, start, rng.step))
            .values_list("source", "receiving", "b").annotate(ms=Avg(value)).order_by())
    series: dict[tuple[str, str], list] = {}
    for source, receiving, bucket, ms in rows:
        if 0 <= bucket < rng.points:
            series.setdefault((source, receiving), [None] * rng.points)[bucket] = ms
    return series
