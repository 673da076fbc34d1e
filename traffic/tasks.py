"""Celery tasks of the region switch (autodiscovered here); each lives beside its concern."""
from .drill_tasks import end_drill, follow_drill, settle_drills  # noqa: F401
