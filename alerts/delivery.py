"""Sending one delivery (one message to one channel): claim it, try once, record the attempt.
The task around it retries with backoff; deliveries a lost worker left behind are sent again."""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone

from . import sender
from .models import WAITING, Delivery, DeliveryAttempt, DeliveryStatus, Incident, IncidentStatus

log = logging.getLogger(__name__)

# Hard limit of one attempt: a few requests of ALERT_SEND_TIMEOUT each, with room to spare.
SEND_TIME_LIMIT = 120


def max_attempts() -> int:
    return settings.ALERT_DELIVERY_RETRIES + 1


def attempt(delivery_id: int) -> str:
    """One try; returns the delivery's status. Raises SendFailed when a retry should follow."""
    if Delivery.objects.filter(pk=delivery_id, status__in=WAITING).update(
            status=DeliveryStatus.SENDING, updated_at=timezone.now()) != 1:
        return "skipped"  # sent, given up, or another worker has it
    delivery = Delivery.objects.select_related("channel").get(pk=delivery_id)
    channel = delivery.channel
    number = delivery.attempts + 1
    error, retryable = "", False
    started = time.monotonic()
    if channel is None:
        error = "the channel was deleted"
    elif not channel.enabled and not delivery.is_test:
        error = "the channel is disabled"
    else:
        try:
            sender.send(channel.url, delivery.title, delivery.body, delivery.notify_type)
        except sender.SendFailed as exc:
            error, retryable = str(exc), exc.retryable
        except Exception as exc:  # a plugin's own failure: its text, without the URL
            error, retryable = sender.redact(f"{type(exc).__name__}: {exc}", channel.url), True
    took = int((time.monotonic() - started) * 1000)
    final = not error or not retryable or number >= max_attempts()
    status = (DeliveryStatus.SENT if not error else
              DeliveryStatus.FAILED if final else DeliveryStatus.RETRYING)
    now = timezone.now()
    with transaction.atomic():
        DeliveryAttempt.objects.create(delivery=delivery, number=number, at=now, ok=not error,
                                       error=error, duration_ms=took)
        Delivery.objects.filter(pk=delivery.pk).update(
            status=status, attempts=number, last_error=error, updated_at=now,
            finished_at=now if final else None)
    if error:
        where = channel.masked_url if channel else "deleted channel"
        log.warning("alert delivery %s to %s (%s), attempt %s of %s: %s", delivery.pk,
                    delivery.channel_name, where, number, max_attempts(), error)
    if status == DeliveryStatus.RETRYING:
        raise sender.SendFailed(error)
    return status


def enqueue(ids: list[int]) -> None:
    from .tasks import deliver_alert

    for pk in ids:
        try:
            deliver_alert.apply_async(args=[pk])
        except Exception:  # the broker is away: the next evaluation sends it again
            log.exception("could not queue alert delivery %s", pk)


def requeue_stuck(now=None) -> list[int]:
    """Deliveries nobody is working on any more (the queue lost them, or a worker died while
    sending): queued again, each at most once per grace period."""
    now = now or timezone.now()
    lost = (Q(status=DeliveryStatus.QUEUED, updated_at__lt=now - timedelta(minutes=2))
            | Q(status=DeliveryStatus.RETRYING,
                updated_at__lt=now - timedelta(seconds=settings.ALERT_RETRY_BACKOFF_MAX + 120))
            | Q(status=DeliveryStatus.SENDING,
                updated_at__lt=now - timedelta(seconds=SEND_TIME_LIMIT + 60)))
    ids = list(Delivery.objects.filter(lost).values_list("pk", flat=True)[:500])
    if ids:
        Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.RETRYING)
        Delivery.objects.filter(pk__in=ids).update(updated_at=now)
        transaction.on_commit(lambda: enqueue(ids), robust=True)
    return ids



def prune(now=None) -> dict[str, int]:
    """Forget incidents resolved, and test messages sent, more than ALERT_RETENTION_DAYS ago
    (their notices, deliveries and attempts go with them)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.ALERT_RETENTION_DAYS)
    incidents = Incident.objects.filter(status=IncidentStatus.RESOLVED, resolved_at__lt=cutoff)
    old = Delivery.objects.filter(created_at__lt=cutoff).filter(
        Q(is_test=True) | Q(notices__incident__in=incidents)).distinct()
    deliveries = Delivery.objects.filter(pk__in=list(old.values_list("pk", flat=True))).delete()
    return {"incidents": incidents.delete()[0], "deliveries": deliveries[0]}


def history(application: str = "", status: str = ""):
    """Incidents newest first with their notices, deliveries and attempts (a fixed number of
    queries); shared by the page and the API."""
    incidents = Incident.objects.select_related("application", "suppressed_by").prefetch_related(
        Prefetch("notices__deliveries",
                 queryset=Delivery.objects.prefetch_related("attempt_log")))
    if application:
        incidents = incidents.filter(application__slug=application)
    if status:
        incidents = incidents.filter(status=status)
    return incidents
