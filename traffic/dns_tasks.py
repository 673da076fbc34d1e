"""The region switch's periodic tasks (queue "polling"): what DNS answers, and drift."""

import logging

from celery import shared_task

from . import dns, drift

log = logging.getLogger(__name__)


@shared_task(ignore_result=True, acks_late=False, soft_time_limit=60, time_limit=90)
def refresh_dns_answers() -> str | None:
    """Refresh the DNS answers of the application whose answers are oldest (one per tick)."""
    return dns.refresh_next()


@shared_task(ignore_result=True, acks_late=False, soft_time_limit=60, time_limit=90)
def refresh_application_dns(application_id: int) -> None:
    """Read one application's DNS answers, for a page that found none fresh."""
    dns.refresh(application_id)


@shared_task(ignore_result=True, acks_late=False, soft_time_limit=60, time_limit=90)
def check_routing_drift() -> dict:
    """Compare every routing check's threshold with its region's traffic state."""
    report = drift.check_all()
    for line in report["drift"]:
        log.warning("routing drift: %s", line)
    return report
