"""Alert tasks: the evaluation after each poll cycle (queue "polling") and the delivery of one
message to one channel (queue "default"), retried with backoff."""

import logging

from celery import shared_task
from celery.signals import task_postrun
from django.conf import settings

from lib import shared_redis
from watch.tasks import poll_metrics, probe_regions

from . import delivery, evaluate
from .sender import SendFailed

log = logging.getLogger(__name__)

LOCK_KEY = "meridian:evaluate_alerts:lock"


@shared_task(acks_late=False, soft_time_limit=60, time_limit=90)
def evaluate_alerts() -> dict:
    """One evaluation; one still running elsewhere makes this one step aside."""
    lock = shared_redis.client().lock(LOCK_KEY, timeout=120, blocking=False)
    if not lock.acquire(blocking=False):
        return {"skipped": True}
    try:
        return evaluate.evaluate().summary()
    finally:
        try:
            lock.release()
        except Exception:  # expired under a very slow evaluation; nothing to undo
            log.warning("evaluate_alerts: lock had expired before release")


@shared_task(bind=True, acks_late=True, ignore_result=True,
             autoretry_for=(SendFailed,), retry_backoff=settings.ALERT_RETRY_BACKOFF,
             retry_backoff_max=settings.ALERT_RETRY_BACKOFF_MAX, retry_jitter=True,
             max_retries=settings.ALERT_DELIVERY_RETRIES,
             soft_time_limit=delivery.SEND_TIME_LIMIT - 10, time_limit=delivery.SEND_TIME_LIMIT)
def deliver_alert(self, delivery_id: int) -> str:
    return delivery.attempt(delivery_id)


@shared_task(ignore_result=True, soft_time_limit=600, time_limit=660)
def prune_alerts() -> dict[str, int]:
    return delivery.prune()


@task_postrun.connect
def evaluate_after_poll(sender=None, **kwargs) -> None:
    """Every poll cycle and probe round, done, skipped or failed, is followed by an evaluation:
    stale sources are found even when cycles fail."""
    if getattr(sender, "name", None) not in (poll_metrics.name, probe_regions.name):
        return
    try:
        evaluate_alerts.apply_async()
    except Exception:  # the next cycle tries again
        log.exception("could not queue the alert evaluation")
