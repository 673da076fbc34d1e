"""The sandbox's one periodic task (queue "polling"): publish what AWS would publish."""

import logging

from celery import shared_task
from django.conf import settings

from . import emitter

log = logging.getLogger(__name__)


@shared_task(ignore_result=True, acks_late=False, soft_time_limit=60, time_limit=90)
def emit_sandbox_metrics() -> dict | None:
    """Sandbox only: publish the metrics AWS would publish (see sandbox.emitter)."""
    if not settings.SANDBOX:
        return None
    report = emitter.emit()
    for error in report.errors:
        log.warning("sandbox emitter: %s", error)
    return {"health": report.health, "pairs": len(report.lag), "calls": report.calls}
