from celery import shared_task
from django.db.models import Count

from .models import Application


@shared_task
def inventory_summary() -> dict[str, list[str]]:
    """Each application's live regions as the worker sees them (a worker round-trip probe)."""
    apps = Application.objects.annotate(n=Count("regions")).prefetch_related("regions")
    return {
        app.slug: sorted(r.code for r in app.regions.all() if r.state != "removed") for app in apps
    }
