"""Celery tasks of the region switch (autodiscovered here); each lives beside its concern."""
from .dns_tasks import (  # noqa: F401
    check_routing_drift,
    refresh_application_dns,
    refresh_dns_answers,
)
from .drill_tasks import end_drill, follow_drill, settle_drills  # noqa: F401
