"""Celery tasks of the region switch (autodiscovered here); each lives beside its concern."""
from .dns_tasks import check_routing_drift, refresh_dns_answers  # noqa: F401
from .drill_tasks import end_drill, follow_drill, settle_drills  # noqa: F401
