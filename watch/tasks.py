"""Celery tasks of the watch: the poll cycle (queue "polling") and the pruning of old samples."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from lib import shared_redis

from . import pollers, probes, summary
from .models import HealthSample, ReplicationRollup, ReplicationSample

log = logging.getLogger(__name__)

LOCK_KEY = "meridian:poll_metrics:lock"


# A cycle still queued when the next one is due is worthless: it expires first.
@shared_task(acks_late=False, ignore_result=True,
             soft_time_limit=120, time_limit=150,
             expires=max(pollers.poll_interval() - 1, 1))
def poll_metrics() -> dict:
    """One poll cycle; a cycle still running elsewhere makes this one step aside."""
    interval = pollers.poll_interval()
    # Held until the hard time limit has surely ended the cycle, so two never overlap.
    lock = shared_redis.client().lock(
        LOCK_KEY, timeout=max(interval * 4, poll_metrics.time_limit + 30), blocking=False)
    if not lock.acquire(blocking=False):
        log.info("poll_metrics: the previous cycle is still running; skipped")
        return {"skipped": True}
    try:
        report = pollers.poll_cycle()
        if summary.cache_is_shared():
            try:
                summary.warm(pollers.watched_applications())
            except Exception:  # dashboards then compute the sparklines themselves
                log.exception("poll_metrics: warming the dashboard cache failed")
        return report.summary()
    finally:
        try:
            lock.release()
        except Exception:  # the lock expired under a very slow cycle; nothing to undo
            log.warning("poll_metrics: lock had expired before release")


# A probe still queued when the next one is due is worthless too.
@shared_task(acks_late=False, ignore_result=True, soft_time_limit=30, time_limit=45,
             expires=max(settings.PROBE_INTERVAL - 1, 1))
def probe_regions() -> dict:
    """Meridian's own look at every region's health endpoint (watch.probes)."""
    return probes.probe_all()


def _delete_in_batches(queryset, batch: int) -> int:
    model = queryset.model
    deleted = 0
    while True:
        # No ordering: old rows are found through the `at` index, not the unique one.
        ids = list(queryset.order_by().values_list("pk", flat=True)[:batch])
        if not ids:
            return deleted
        deleted += model.objects.filter(pk__in=ids).delete()[0]


def prune(now=None, batch: int = 5000) -> dict[str, int]:
    """Delete minute samples past SAMPLE_RETENTION_DAYS and rollups past ROLLUP_RETENTION_DAYS.

    Health changes stay: there is one row per flip, and the latest one says "since when"."""
    now = now or timezone.now()
    keep = timedelta(days=settings.SAMPLE_RETENTION_DAYS)
    keep_rollups = timedelta(days=settings.ROLLUP_RETENTION_DAYS)
    return {
        "health": _delete_in_batches(HealthSample.objects.filter(at__lt=now - keep), batch),
        "replication": _delete_in_batches(
            ReplicationSample.objects.filter(at__lt=now - keep), batch),
        "rollups": _delete_in_batches(
            ReplicationRollup.objects.filter(bucket__lt=now - keep_rollups), batch),
    }


@shared_task(ignore_result=True, soft_time_limit=600,
             time_limit=660)
def prune_samples() -> dict[str, int]:
    return prune()
