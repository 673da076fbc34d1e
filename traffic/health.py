"""What the guard knows of each region's health: Route 53's latest minute (the watch's
samples), overruled by Meridian's own probe when that has seen the endpoint fail since."""

from regions.models import Application
from watch.models import HealthProbe, HealthSample


def current_health(application: Application) -> dict[int, bool | None]:
    """Region id → healthy, unhealthy, or None when nothing has been read yet."""
    ids = list(application.regions.values_list("pk", flat=True))
    latest = {}
    for sample in (HealthSample.objects.filter(region_id__in=ids, status__isnull=False)
                   .order_by("region_id", "-at").distinct("region_id")
                   if _distinct_on() else _latest_each(ids)):
        latest[sample.region_id] = sample
    probes = {p.region_id: p for p in HealthProbe.objects.filter(region_id__in=ids)}
    found: dict[int, bool | None] = {}
    for pk in ids:
        sample, probe = latest.get(pk), probes.get(pk)
        healthy = sample.healthy if sample else None
        if probe is not None and (sample is None or probe.checked_at >= sample.at):
            if not probe.ok or healthy is None:
                healthy = probe.ok
        found[pk] = healthy
    return found


def _distinct_on() -> bool:
    from django.db import connection

    return connection.features.can_distinct_on_fields


def _latest_each(ids: list[int]):
    for pk in ids:
        sample = (HealthSample.objects.filter(region_id=pk, status__isnull=False)
                  .order_by("-at").first())
        if sample is not None:
            yield sample
