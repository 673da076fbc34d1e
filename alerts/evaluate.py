"""One evaluation cycle: findings from stored state, the incident lifecycle applied to each,
and one delivery per (application's message, channel), queued when the cycle commits.

Runs after every poll cycle (alerts.tasks); also works from the shell: `evaluate()`."""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from regions.models import Application

from . import delivery, findings, lifecycle, messages, traffic_findings
from .models import (
    QUIETED_BY_WINDOWS,
    Channel,
    Delivery,
    Event,
    Incident,
    IncidentStatus,
    MaintenanceWindow,
    Notice,
)

log = logging.getLogger(__name__)

ROLLOUT_EVENTS = (Event.ROLLOUT_FAILED, Event.ROLLOUT_WAITING, Event.ROLLOUT_SUCCEEDED)


@dataclass
class Report:
    findings: int = 0
    opened: int = 0
    resolved: int = 0
    held: int = 0
    deliveries: list[int] = field(default_factory=list)
    requeued: list[int] = field(default_factory=list)

    def summary(self) -> dict:
        return {"findings": self.findings, "opened": self.opened, "resolved": self.resolved,
                "held": self.held, "deliveries": len(self.deliveries),
                "requeued": len(self.requeued)}


def _window(windows: list, finding):
    """The maintenance window, or the running drill, that quiets the finding now."""
    if finding is None or finding.event not in QUIETED_BY_WINDOWS:
        return None
    return next((w for w in windows if w.application_id == finding.application_id
                 and w.covers(finding.regions, any_region=finding.any_region)), None)


def _known(incident: Incident | None) -> lifecycle.Known | None:
    if incident is None:
        return None
    return lifecycle.Known(incident.status, incident.confirmations, incident.observed_at,
                           incident.announced_at is not None)


def _create(finding, step, window, now) -> Incident | None:
    incident = Incident(
        application_id=finding.application_id, event=finding.event, subject=finding.subject,
        summary=finding.summary, link=finding.link, detail=finding.detail,
        started_at=finding.since or now, created_at=now, **step.changes)
    if step.changes.get("was_suppressed"):
        _held_by(incident, window)
    try:
        with transaction.atomic():
            incident.save()
    except IntegrityError:  # another evaluation created it first
        return None
    return incident


def _held_by(incident, window) -> dict:
    """Which window or drill held the message: set on `incident`, and returned as changes."""
    drill = isinstance(window, traffic_findings.DrillQuiet)
    changes = {"suppressed_by": None if drill else window,
               "suppressed_by_drill_id": window.drill_id if drill else None}
    for key, value in changes.items():
        if incident is not None:
            setattr(incident, key, value)
    return changes


def _update(incident: Incident, finding, step, window) -> bool:
    changes = dict(step.changes)
    if step.notice == "opened" and finding is not None:
        changes["summary"], changes["detail"] = finding.summary, finding.detail
    if changes.get("was_suppressed"):
        changes.update(_held_by(None, window))
    # Compare-and-set: a concurrent evaluation that moved it first wins, and tells it once.
    moved = Incident.objects.filter(
        pk=incident.pk, status=incident.status, confirmations=incident.confirmations,
        announced_at=incident.announced_at).update(**changes)
    if moved:
        for key, value in changes.items():
            setattr(incident, key, value)
    return moved == 1


def _apply(key, incident, finding, windows, now, report) -> Notice | None:
    window = _window(windows, finding)
    step = lifecycle.step(_known(incident), finding, now, quiet=window is not None)
    if step.action == "none":
        return None
    if step.action == "drop":
        Incident.objects.filter(pk=incident.pk, status=IncidentStatus.PENDING).delete()
        return None
    if step.action == "create":
        incident = _create(finding, step, window, now)
    elif not _update(incident, finding, step, window):
        incident = None
    if incident is None:
        return None
    if step.changes.get("was_suppressed"):
        report.held += 1
    if step.notice is None:
        return None
    report.opened += step.notice == "opened"
    report.resolved += step.notice == "resolved"
    try:
        with transaction.atomic():
            return Notice.objects.create(incident=incident, kind=step.notice, created_at=now)
    except IntegrityError:  # told already
        return None


def _deliveries(notices: dict[int, list[Notice]], applications: dict, now) -> list[int]:
    channels = list(Channel.objects.filter(enabled=True))
    created = []
    links = []
    for app_id, told in notices.items():
        application = applications[app_id]
        for channel in channels:
            subset = [n for n in told if channel.wants(application.slug, n.incident.event)]
            if not subset:
                continue
            title, body, kind = messages.compose(application, subset)
            row = Delivery.objects.create(channel=channel, channel_name=channel.name,
                                          application=application, title=title, body=body,
                                          notify_type=kind, created_at=now, updated_at=now)
            created.append(row.pk)
            links += [Delivery.notices.through(delivery_id=row.pk, notice_id=n.pk)
                      for n in subset]
    Delivery.notices.through.objects.bulk_create(links)
    return created


def evaluate(now: datetime | None = None) -> Report:
    now = now or timezone.now()
    report = Report()
    live = {(i.application_id, i.event, i.subject): i
            for i in Incident.objects.exclude(status=IncidentStatus.RESOLVED)}
    live_rollouts = {int(k[2]) for k in live if k[1] in ROLLOUT_EVENTS}
    state = findings.load(now, live_rollouts)
    found = {}
    for application in state.applications:
        for rule in findings.RULES:
            for finding in rule(state, application):
                found[(finding.application_id, finding.event, finding.subject)] = finding
    report.findings = len(found)
    # Notices (rollout successes, traffic changes, drills) are told once, then resolved at
    # once: never again.
    notices_found = [key for key, f in found.items() if f.notice_only]
    told = set(Incident.objects.filter(
        event__in={k[1] for k in notices_found},
        application_id__in=[a.pk for a in state.applications],
        subject__in={k[2] for k in notices_found},
    ).values_list("application_id", "event", "subject")) if notices_found else set()
    windows = [*MaintenanceWindow.objects.filter(starts_at__lte=now, ends_at__gt=now),
               *traffic_findings.quiets()]
    applications = {a.pk: a for a in state.applications}
    notices: dict[int, list[Notice]] = defaultdict(list)
    with transaction.atomic():
        for key in sorted(live.keys() | (found.keys() - told)):
            notice = _apply(key, live.get(key), found.get(key), windows, now, report)
            if notice is not None:
                notices[key[0]].append(notice)
        # A recovery told about an application that no longer has watched regions.
        missing = set(notices) - set(applications)
        applications.update(Application.objects.in_bulk(missing) if missing else {})
        report.deliveries = _deliveries(notices, applications, now)
        report.requeued = delivery.requeue_stuck(now)
        ids = list(report.deliveries)
        transaction.on_commit(lambda: delivery.enqueue(ids), robust=True)
    return report
