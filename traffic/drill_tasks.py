"""Drill tasks: follow a drill's drain, end it when its time is up (a countdown task), and
beat's pass that ends overdue drills whose worker died, aborts failing ones and starts
scheduled ones."""

from celery import shared_task

from . import drill_schedules, drills


@shared_task(acks_late=True, soft_time_limit=900, time_limit=960)
def follow_drill(drill_id: int) -> str:
    return drills.follow(drill_id)


@shared_task(acks_late=True, soft_time_limit=900, time_limit=960)
def end_drill(drill_id: int) -> str:
    return drills.end(drill_id)


@shared_task(acks_late=True, soft_time_limit=900, time_limit=960)
def settle_drills() -> list[str]:
    return drills.settle() + drill_schedules.start_due()
