"""Scheduled drills: beat asks every schedule whether its drill is due (traffic.calendar, pure)
and starts it through drills.start, or records why it skipped it."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.audit import Actor, record

from . import calendar, drills, services
from .models import DrillSchedule


def start_due(now=None) -> list[str]:
    now = now or timezone.now()
    done = []
    for schedule in DrillSchedule.objects.filter(enabled=True).select_related(
            "application", "region"):
        try:
            blocked = calendar.parse_dates(schedule.blocked_dates)
        except ValueError as exc:
            blocked, note = set(), str(exc)
            schedule.last_note = note
        decision = calendar.decide(schedule.weekday, schedule.at, schedule.window_minutes,
                                   blocked, schedule.last_on, now)
        if decision.action == "wait":
            continue
        # The date is the claim: two beats never start the same occurrence.
        claimed = DrillSchedule.objects.filter(pk=schedule.pk, last_on=schedule.last_on).update(
            last_on=decision.day)
        if claimed != 1:
            continue
        if decision.action == "skip":
            note = f"Skipped the drill of {decision.day.isoformat()}: {decision.reason}."
        else:
            note = _start(schedule, decision.day)
        DrillSchedule.objects.filter(pk=schedule.pk).update(last_note=note)
        done.append(f"schedule {schedule.pk}: {note}")
    return done


def _start(schedule: DrillSchedule, day) -> str:
    try:
        drill = drills.start(schedule.application, schedule.region.code, schedule.minutes,
                             Actor(None, "system"), schedule=schedule)
    except services.TrafficError as exc:
        return f"The drill of {day.isoformat()} did not start: {exc}"
    return f"Started {drill} on {day.isoformat()} ({drill.get_status_display().lower()})."


def create(application, code: str, data: dict, actor: Actor) -> DrillSchedule:
    """A weekly drill of region `code`; raises services.TrafficError with the reason."""
    region = application.regions.filter(code=code).first()
    if region is None:
        raise services.TrafficError(f"{code} is not a region of {application.slug}.")
    try:
        blocked = sorted(d.isoformat() for d in calendar.parse_dates(data.get("blocked_dates")))
    except ValueError as exc:
        raise services.TrafficError(str(exc)) from None
    schedule = DrillSchedule(application=application, region=region, created_by=actor.name,
                             **{**data, "blocked_dates": blocked})
    try:
        schedule.full_clean(exclude=["application", "region"])
    except ValidationError as exc:
        raise services.TrafficError(" ".join(exc.messages)) from None
    with transaction.atomic():
        schedule.save()
        record(actor, "traffic.drill_schedule.create", region, application=application,
               after={"schedule": schedule.pk, "weekday": schedule.weekday,
                      "at": schedule.at.isoformat(), "minutes": schedule.minutes,
                      "window_minutes": schedule.window_minutes, "blocked_dates": blocked})
    return schedule


def delete(schedule: DrillSchedule, actor: Actor) -> None:
    with transaction.atomic():
        record(actor, "traffic.drill_schedule.delete", schedule.region,
               application=schedule.application, before={"schedule": schedule.pk})
        schedule.delete()


def next_start(schedule: DrillSchedule, now=None):
    try:
        blocked = calendar.parse_dates(schedule.blocked_dates)
    except ValueError:
        blocked = set()
    return calendar.next_start(schedule.weekday, schedule.at, blocked, now or timezone.now(),
                               schedule.last_on)
