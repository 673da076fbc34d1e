import logging

from celery import shared_task
from django.conf import settings

from .models import Application
from .tasks_watch import poll_metrics, prune_samples  # noqa: F401 - registers the watch tasks

log = logging.getLogger(__name__)


@shared_task
def inventory_summary() -> dict[str, list[str]]:
    """Each application's live regions as the worker sees them (a worker round-trip probe)."""
    apps = Application.objects.prefetch_related("regions")
    return {
        app.slug: sorted(r.code for r in app.regions.all() if r.state != "removed") for app in apps
    }


@shared_task(name="regions.tasks.emit_sandbox_metrics", ignore_result=True, acks_late=False,
             soft_time_limit=60, time_limit=90)
def emit_sandbox_metrics() -> dict | None:
    """Sandbox only: publish the metrics AWS would publish (see regions.sandbox)."""
    if not settings.SANDBOX:
        return None
    from . import sandbox

    report = sandbox.emit()
    for error in report.errors:
        log.warning("sandbox emitter: %s", error)
    return {"health": report.health, "pairs": len(report.lag), "calls": report.calls}
