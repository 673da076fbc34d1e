"""When a weekly drill is due: a pure rule over plain values, tested alone
(tests/traffic/test_drill_calendar.py) and called by traffic.drill_schedules."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta


@dataclass(frozen=True)
class Decision:
    action: str  # "start", "skip" or "wait"
    day: date | None = None
    reason: str = ""


def latest_occurrence(weekday: int, at: time, now: datetime) -> datetime:
    """The latest moment at or before `now` that falls on `weekday` at `at` (same tzinfo)."""
    today = datetime.combine(now.date(), at, tzinfo=now.tzinfo)
    back = (now.weekday() - weekday) % 7
    moment = today - timedelta(days=back)
    return moment if moment <= now else moment - timedelta(days=7)


def decide(weekday: int, at: time, window_minutes: int, blocked: set[date],
           last_on: date | None, now: datetime) -> Decision:
    """Start this week's drill when `now` is within its window and it has not started or been
    skipped that day; skip it (once) on a blocked date; otherwise wait."""
    moment = latest_occurrence(weekday, at, now)
    day = moment.date()
    if last_on is not None and last_on >= day:
        return Decision("wait")
    if now - moment > timedelta(minutes=window_minutes):
        return Decision("wait")  # missed: never started outside its window
    if day in blocked:
        return Decision("skip", day, f"{day.isoformat()} is a blocked date")
    return Decision("start", day)


def next_start(weekday: int, at: time, blocked: set[date], now: datetime,
               last_on: date | None = None) -> datetime:
    """The next moment a drill will start (blocked dates and a day already handled passed over)."""
    moment = latest_occurrence(weekday, at, now)
    if moment < now or (last_on is not None and moment.date() <= last_on):
        moment += timedelta(days=7)
    for _ in range(520):  # ten years of weeks, then give up looking
        if moment.date() not in blocked and (last_on is None or moment.date() > last_on):
            return moment
        moment += timedelta(days=7)
    return moment


def parse_dates(values) -> set[date]:
    """Blocked dates as stored (ISO strings); raises ValueError naming a bad one."""
    found = set()
    for value in values or []:
        try:
            found.add(date.fromisoformat(str(value)))
        except ValueError:
            raise ValueError(f"{value!r} is not a date (YYYY-MM-DD).") from None
    return found
