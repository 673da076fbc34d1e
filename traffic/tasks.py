"""Celery tasks of the region switch (autodiscovered here); each lives beside its concern."""
from .dns_tasks import check_routing_drift, refresh_dns_answers  # noqa: F401
