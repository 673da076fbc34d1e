"""Weekly drills: the pure calendar rule, and beat starting a due drill and skipping a blocked
date (once each)."""

from datetime import UTC, date, datetime, time

import pytest

from accounts.audit import Actor
from traffic import calendar, drill_schedules
from traffic.models import Drill, DrillSchedule

MONDAY_10 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a Monday


def test_a_drill_is_due_within_its_window_and_only_once_a_day():
    at = time(10, 0)
    assert calendar.decide(0, at, 60, set(), None, MONDAY_10.replace(minute=20)) == \
        calendar.Decision("start", date(2026, 11, 30))
    assert calendar.decide(0, at, 60, set(), date(2026, 11, 30),
                           MONDAY_10.replace(minute=20)).action == "wait"
    assert calendar.decide(0, at, 60, set(), None, MONDAY_10.replace(hour=9)).action == "wait"
    assert calendar.decide(0, at, 60, set(), None, MONDAY_10.replace(hour=11, minute=1)
                           ).action == "wait"


def test_a_blocked_date_is_skipped_and_the_next_start_passes_over_it():
    blocked = {date(2026, 11, 30), date(2026, 12, 7)}
    decision = calendar.decide(0, time(10, 0), 60, blocked, None, MONDAY_10)
    assert decision == calendar.Decision("skip", date(2026, 11, 30),
                                         "2026-11-30 is a blocked date")
    assert calendar.next_start(0, time(10, 0), blocked, MONDAY_10.replace(hour=9)) == \
        datetime(2026, 12, 14, 10, 0, tzinfo=UTC)


def test_a_bad_blocked_date_is_named():
    with pytest.raises(ValueError, match="'30.11.2026' is not a date"):
        calendar.parse_dates(["2026-12-01", "30.11.2026"])


@pytest.mark.django_db
def test_beat_starts_a_due_drill_once_and_skips_a_blocked_date(
        records, application, operator, django_capture_on_commit_callbacks):
    now = datetime.now(UTC).replace(microsecond=0)
    due = drill_schedules.create(application, "eu-west-1", {
        "weekday": now.weekday(), "at": now.time().replace(second=0), "minutes": 2},
        Actor(operator))
    blocked = drill_schedules.create(application, "ap-southeast-2", {
        "weekday": now.weekday(), "at": now.time().replace(second=0), "minutes": 2,
        "blocked_dates": [now.date().isoformat()]}, Actor(operator))

    with django_capture_on_commit_callbacks():
        report = drill_schedules.start_due(now)

    drill = Drill.objects.get()
    assert (drill.region.code, drill.schedule_id, drill.source) == ("eu-west-1", due.pk,
                                                                    "schedule")
    assert report == [
        f"schedule {due.pk}: Started drill {drill.pk} of eu-west-1 on {now.date()} (running).",
        f"schedule {blocked.pk}: Skipped the drill of {now.date()}: {now.date()} is a blocked "
        "date."]
    assert DrillSchedule.objects.get(pk=blocked.pk).last_on == now.date()
    assert drill_schedules.start_due(now) == []
    assert Drill.objects.count() == 1
