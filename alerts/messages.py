"""The words of a message: one per application and evaluation, naming the application, each
region or pair, what happened, since when, and the page to look at."""

from datetime import datetime

from django.conf import settings

from .findings import countdown
from .models import Event, NoticeKind

# Rollout subjects are ids; the others read as they are.
SUBJECT_WORDS = {Event.ROLLOUT_FAILED: "rollout {}", Event.ROLLOUT_WAITING: "rollout {}",
                 Event.ROLLOUT_SUCCEEDED: "rollout {}"}


def _at(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "an unknown time"


def _lasted(start: datetime, end: datetime) -> str:
    minutes = max(0, int((end - start).total_seconds() // 60))
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60} min"


def site_link(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path if path else settings.SITE_URL


def subject_words(incident) -> str:
    return SUBJECT_WORDS.get(incident.event, "{}").format(incident.subject)


def line(notice) -> str:
    incident = notice.incident
    if notice.kind == NoticeKind.OPENED:
        text = f"PROBLEM: {incident.summary}. Since {_at(incident.started_at)}."
        deadline = countdown(incident.event, incident.detail, incident.started_at)
        if deadline:
            text += f" {deadline}."
        if incident.was_suppressed and incident.suppressed_by_drill_id:
            text += f" (Held during drill {incident.suppressed_by_drill_id}, which has ended.)"
        elif incident.was_suppressed:
            text += " (Held during a maintenance window, which has ended.)"
    elif notice.kind == NoticeKind.RESOLVED:
        end = incident.resolved_at or notice.created_at
        text = (f"RECOVERED: {incident.recovery or incident.summary}. The problem began "
                f"{_at(incident.started_at)} and lasted {_lasted(incident.started_at, end)}.")
    else:
        text = f"{incident.summary} ({_at(incident.started_at)})."
    return f"{text}\n{site_link(incident.link)}"


def compose(application, notices: list) -> tuple[str, str, str]:
    """(title, body, apprise notify type) of the message about `notices`."""
    kinds = [n.kind for n in notices]
    if len(notices) == 1:
        incident = notices[0].incident
        label = incident.get_event_display()
        state = {NoticeKind.OPENED: "", NoticeKind.RESOLVED: " recovered",
                 NoticeKind.NOTICE: ""}[notices[0].kind]
        headline = f"{label}: {subject_words(incident)}{state}"
    else:
        counts = [(kinds.count(NoticeKind.OPENED), "problem", "problems"),
                  (kinds.count(NoticeKind.RESOLVED), "recovered", "recovered"),
                  (kinds.count(NoticeKind.NOTICE), "notice", "notices")]
        headline = ", ".join(f"{n} {one if n == 1 else many}" for n, one, many in counts if n)
    title = f"[Meridian] {application.name} ({application.slug}): {headline}"
    body = f"Application {application.name} ({application.slug})\n\n" + "\n\n".join(
        line(n) for n in notices)
    if NoticeKind.OPENED in kinds:
        waiting = all(n.incident.event == Event.ROLLOUT_WAITING for n in notices
                      if n.kind == NoticeKind.OPENED)
        kind = "warning" if waiting else "failure"
    elif NoticeKind.RESOLVED in kinds:
        kind = "success"
    else:
        kind = "info"
    return title[:250], body, kind


def test_message() -> tuple[str, str, str]:
    return ("[Meridian] Test message",
            "This is a test from Meridian: alerts about your applications will arrive here.\n"
            f"{site_link('')}", "info")
