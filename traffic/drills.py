"""Drills: drain a region for some minutes through the one traffic write path
(services.change_traffic, source "drill"), measure how long Route 53 and DNS take, and restore
by itself — from the countdown task, or from beat when that task's worker died — or at once
when an outcome check fails.

Timeline: requested → Route 53 updated → routing check reported unhealthy → DNS answers
shifted → (aborted) → restore requested → restored → answers back."""

import time as clock
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.audit import Actor, record
from lib import aws, route53_budget
from regions.models import Application, Traffic
from watch.models import ReplicationSample
from watch.summary import lag_thresholds

from . import dns, routing, services
from .health import current_health
from .models import MAX_MINUTES, MIN_MINUTES, ChangeStatus, Drill, DrillEvent, DrillStatus
from .models import Milestone as M

SOURCE = "drill"
# Lag readings older than this say nothing about the drill.
LAG_RECENT = timedelta(minutes=5)
OUTSIDE = (aws.AwsError, route53_budget.Route53Busy)


class DrillError(services.TrafficError):
    """The drill cannot be started as asked."""


def restore_timeout() -> timedelta:
    """A restore claim older than this belongs to a worker that died: it may be taken again."""
    return timedelta(seconds=settings.TRAFFIC_CHANGE_TIMEOUT + settings.DRILL_MEASURE_TIMEOUT
                     + 30)


def event(drill: Drill, kind: str, message: str, at=None) -> DrillEvent:
    return DrillEvent.objects.create(drill=drill, kind=kind, message=message,
                                     at=at or timezone.now())


def _minutes(value) -> float:
    try:
        minutes = float(value)
    except (TypeError, ValueError):
        raise DrillError(f"{value!r} is not a number of minutes.") from None
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise DrillError(f"A drill lasts {MIN_MINUTES:g} to {MAX_MINUTES} minutes, not "
                         f"{minutes:g}.")
    return minutes


def running_drill(application: Application) -> Drill | None:
    return (Drill.objects.filter(application=application, status=DrillStatus.RUNNING)
            .select_related("region").first())


def start(application: Application, code: str, minutes, actor: Actor,
          schedule=None) -> Drill:
    """Drain `code` for `minutes` and have it restored by itself. Raises DrillError (bad
    request), services.Refused (the guard, a change or a drill under way); a drill the guard
    refused stays in the history as failed."""
    minutes = _minutes(minutes)
    region = application.regions.filter(code=code).first()
    if region is None:
        raise DrillError(f"{code} is not a region of {application.slug}.")
    now = timezone.now()
    try:
        with transaction.atomic():
            drill = Drill.objects.create(
                application=application, region=region, schedule=schedule, minutes=minutes,
                actor_name=actor.name, source="schedule" if schedule else actor.source,
                requested_at=now, ends_at=now + timedelta(minutes=minutes))
            record(actor, "traffic.drill", region, application=application,
                   after={"drill": drill.pk, "minutes": minutes})
    except IntegrityError:
        other = running_drill(application)
        raise services.Refused(
            f"A drill of {application.slug} is running"
            + (f" ({other}, until {other.ends_at:%H:%M:%S} UTC)" if other else "")
            + "; one drill per application at a time.") from None
    who = f"the schedule ({schedule})" if schedule else actor.name
    event(drill, M.REQUESTED, f"Drill of {code} for {minutes:g} min requested by {who}.", now)
    try:
        change = services.change_traffic(application, code, Traffic.DRAINED,
                                         Actor(actor.user, SOURCE, actor.remote_addr),
                                         f"drill {drill.pk}")
    except services.TrafficError as exc:
        _finish(drill, DrillStatus.FAILED, f"Refused: {exc}")
        raise
    drill.drain_change = change
    if change.status == ChangeStatus.FAILED:
        drill.save(update_fields=["drain_change"])
        _finish(drill, DrillStatus.FAILED, services.failure_message(change))
        return drill
    if change.route53_at:
        event(drill, M.ROUTE53_UPDATED,
              f"Route 53 updated: routing check threshold {routing.threshold(Traffic.DRAINED)}"
              f" ({change.seconds_to_route53:.2f} s after the request).", change.route53_at)
    if change.cloudwatch_at:
        event(drill, M.ALARM_SET, "Drain alarm set in the control region "
              f"{routing.control_region(application)} (data plane).", change.cloudwatch_at)
    drill.drained_at = change.route53_at or change.cloudwatch_at
    drill.save(update_fields=["drain_change", "drained_at"])
    transaction.on_commit(lambda: _enqueue(drill), robust=True)
    return drill


def _enqueue(drill: Drill) -> None:
    from . import drill_tasks

    drill_tasks.follow_drill.delay(drill.pk)
    drill_tasks.end_drill.apply_async((drill.pk,), eta=drill.ends_at)


def _finish(drill: Drill, status: str, explanation: str) -> None:
    now = timezone.now()
    Drill.objects.filter(pk=drill.pk, status=DrillStatus.RUNNING).update(
        status=status, explanation=explanation[:2000], finished_at=now)
    drill.status, drill.explanation, drill.finished_at = status, explanation, now
    if status == DrillStatus.FAILED and drill.restore_requested_at is None:
        event(drill, M.ERROR, explanation, now)


def _note_error(drill: Drill, exc: Exception) -> None:
    """An AWS answer in words, once per distinct message (a measurement retries it)."""
    text = str(exc)
    if text != drill.last_error:
        Drill.objects.filter(pk=drill.pk).update(last_error=text[:2000])
        drill.last_error = text
        event(drill, M.NOTE, f"Measuring: {text}")


def _answer_for(application, code: str) -> dns.Answer | None:
    return next((a for a in dns.answers(application, fresh=True) if a.client == code), None)


def routing_unhealthy(drill: Drill) -> bool:
    """What the region's routing check says now: its threshold read from Route 53, its drain
    alarm's state and the endpoint's health, by the CALCULATED check's rule."""
    region = drill.region
    checks = routing.checks_of(region)
    threshold = routing.read_threshold(drill.application, checks.routing)
    alarm = routing.alarm_states(drill.application, [region.code]).get(region.code)
    healthy = current_health(drill.application).get(region.pk)
    return not dns.routing_healthy(threshold, healthy, alarm != "ALARM")


def measure_drain(drill: Drill) -> None:
    """Record the routing check's verdict and the DNS shift when first seen."""
    code = drill.region.code
    try:
        if drill.unhealthy_at is None and routing_unhealthy(drill):
            drill.unhealthy_at = timezone.now()
            Drill.objects.filter(pk=drill.pk).update(unhealthy_at=drill.unhealthy_at)
            event(drill, M.ROUTING_UNHEALTHY, "Routing check reported unhealthy "
                  f"({_after(drill, drill.unhealthy_at)}).", drill.unhealthy_at)
        if drill.shifted_at is None:
            answer = _answer_for(drill.application, code)
            if answer is not None and answer.answer not in (None, code):
                drill.shifted_at = timezone.now()
                Drill.objects.filter(pk=drill.pk).update(shifted_at=drill.shifted_at)
                event(drill, M.DNS_SHIFTED,
                      f"DNS answers shifted: clients near {code} now get {answer.answer}"
                      f"{' (simulated)' if answer.simulated else ''} "
                      f"({_after(drill, drill.shifted_at)}).", drill.shifted_at)
    except (*OUTSIDE, routing.NoRoutingCheck) as exc:
        _note_error(drill, exc)


def _after(drill: Drill, at) -> str:
    return f"{(at - drill.requested_at).total_seconds():.1f} s after the request"


def outcome_problem(drill: Drill, now=None) -> str | None:
    """Why the drill must stop now, in words: a remaining region unhealthy, or replication
    lag above the critical threshold (LAG_CRIT_MS); None while all is well."""
    now = now or timezone.now()
    application = drill.application
    health = current_health(application)
    others = (application.regions.filter(state__in=services.SWITCHABLE)
              .exclude(pk=drill.region_id).filter(traffic__in=[Traffic.SERVING, Traffic.FORCED])
              .order_by("code"))
    sick = [r.code for r in others if health.get(r.pk) is False]
    if sick:
        return (f"{', '.join(sick)} {'is' if len(sick) == 1 else 'are'} unhealthy while "
                f"{drill.region.code} is drained for the drill.")
    limit = lag_thresholds()[1]
    latest: dict[tuple[str, str], ReplicationSample] = {}
    for sample in ReplicationSample.objects.filter(application=application,
                                                   at__gte=now - LAG_RECENT).order_by("-at"):
        latest.setdefault((sample.source, sample.receiving), sample)
    high = [s for s in latest.values() if s.latency_ms >= limit]
    if high:
        worst = max(high, key=lambda s: s.latency_ms)
        return (f"replication {worst.source} → {worst.receiving} lags "
                f"{worst.latency_ms / 1000:.1f} s (at or above {limit / 1000:.1f} s).")
    return None


def abort(drill: Drill, why: str) -> str:
    """Stop the drill now and restore, recording why."""
    now = timezone.now()
    if not Drill.objects.filter(pk=drill.pk, status=DrillStatus.RUNNING,
                                restore_requested_at=None, abort_reason="").update(
            abort_reason=why[:2000], ends_at=now):
        return f"drill {drill.pk}: already ending"
    event(drill, M.ABORTED, f"Aborted: {why}", now)
    return end(drill.pk)


def follow(drill_id: int, sleep=clock.sleep) -> str:
    """Measure the drain until DNS has shifted (or DRILL_MEASURE_TIMEOUT), checking the
    outcome on every pass; beat checks it afterwards."""
    deadline = clock.monotonic() + settings.DRILL_MEASURE_TIMEOUT
    while True:
        drill = Drill.objects.select_related("application", "region").get(pk=drill_id)
        if drill.status != DrillStatus.RUNNING or drill.restore_requested_at is not None:
            return f"drill {drill_id}: {drill.status}"
        problem = outcome_problem(drill)
        if problem:
            return abort(drill, problem)
        measure_drain(drill)
        if drill.shifted_at is not None:
            return f"drill {drill_id}: DNS shifted after {drill.seconds_to_dns_shift:.1f} s"
        if clock.monotonic() > deadline:
            event(drill, M.NOTE, "DNS answers had not shifted within "
                  f"{settings.DRILL_MEASURE_TIMEOUT} s; the drill goes on.")
            return f"drill {drill_id}: no DNS shift seen"
        sleep(settings.DRILL_POLL_INTERVAL)


def _claim(drill_id: int, now) -> bool:
    stale = now - restore_timeout()
    return Drill.objects.filter(
        Q(restore_requested_at=None) | Q(restore_requested_at__lt=stale),
        pk=drill_id, status=DrillStatus.RUNNING, ends_at__lte=now,
    ).update(restore_requested_at=now) == 1


def end(drill_id: int, sleep=clock.sleep) -> str:
    """Restore the drilled region (once, whoever calls), wait for the answers to come back,
    and settle the drill. Says what it did."""
    now = timezone.now()
    if not _claim(drill_id, now):
        return f"drill {drill_id}: not due, or ended elsewhere"
    drill = Drill.objects.select_related("application", "region", "restore_change").get(
        pk=drill_id)
    why = f"aborted: {drill.abort_reason}" if drill.abort_reason else "time is up"
    event(drill, M.RESTORE_REQUESTED, f"Restore requested ({why}).", now)
    if not _restore(drill):
        return f"drill {drill_id}: restore failed, beat tries again"
    measure_back(drill, sleep)
    if drill.abort_reason:
        _finish(drill, DrillStatus.FAILED, f"Aborted and restored: {drill.abort_reason}")
    else:
        _finish(drill, DrillStatus.RESTORED, _summary(drill))
    return f"drill {drill_id}: {drill.status}"


def _restore(drill: Drill) -> bool:
    application, region = drill.application, drill.region
    region.refresh_from_db()
    applied = drill.restore_change is not None and drill.restore_change.status == "applied"
    if applied or region.traffic != Traffic.DRAINED:
        if not applied:
            event(drill, M.RESTORED, f"{region.code} was already "
                  f"{region.get_traffic_display().lower()} (changed by hand); nothing to restore.")
            drill.restored_at = timezone.now()
            Drill.objects.filter(pk=drill.pk).update(restored_at=drill.restored_at)
        return True
    try:
        change = services.change_traffic(application, region.code, Traffic.SERVING,
                                         Actor(None, SOURCE), f"drill {drill.pk}")
    except services.TrafficError as exc:
        return _release(drill, f"Restore refused: {exc}")
    if change.status == ChangeStatus.FAILED:
        return _release(drill, services.failure_message(change))
    drill.restore_change = change
    drill.restored_at = change.route53_at or change.cloudwatch_at or change.finished_at
    Drill.objects.filter(pk=drill.pk).update(restore_change=change,
                                             restored_at=drill.restored_at)
    how = change.get_path_display().lower()
    event(drill, M.RESTORED, f"Restored through {how} "
          f"({(drill.restored_at - drill.restore_requested_at).total_seconds():.2f} s after "
          "the restore request).", drill.restored_at)
    return True


def _release(drill: Drill, why: str) -> bool:
    """The restore did not happen: give the claim back so beat tries again soon."""
    event(drill, M.ERROR, why)
    Drill.objects.filter(pk=drill.pk).update(restore_requested_at=None)
    return False


def measure_back(drill: Drill, sleep=clock.sleep) -> None:
    """Wait until clients near the region are answered by it again (or the time-out)."""
    code = drill.region.code
    deadline = clock.monotonic() + settings.DRILL_MEASURE_TIMEOUT
    while clock.monotonic() <= deadline:
        try:
            answer = _answer_for(drill.application, code)
        except OUTSIDE as exc:
            _note_error(drill, exc)
            answer = None
        if answer is not None and answer.answer == code:
            drill.answers_back_at = timezone.now()
            Drill.objects.filter(pk=drill.pk).update(answers_back_at=drill.answers_back_at)
            event(drill, M.ANSWERS_BACK, f"Answers back: clients near {code} get {code} again "
                  f"({drill.seconds_to_restore:.1f} s after the restore request).",
                  drill.answers_back_at)
            return
        sleep(settings.DRILL_POLL_INTERVAL)
    event(drill, M.NOTE, f"Clients near {code} were not answered by it again within "
          f"{settings.DRILL_MEASURE_TIMEOUT} s of the restore.")


def _summary(drill: Drill) -> str:
    shift, back = drill.seconds_to_dns_shift, drill.seconds_to_restore
    return ("Drained and restored by itself. DNS answers shifted "
            + (f"{shift:.1f} s after the request" if shift is not None else "— not seen")
            + "; answers back "
            + (f"{back:.1f} s after the restore request." if back is not None else "— not seen."))


def settle(now=None) -> list[str]:
    """Beat's pass over running drills: end the overdue ones (also when the worker that was to
    end them died) and abort those whose outcome check fails. Says what it did."""
    now = now or timezone.now()
    done = []
    for drill in Drill.objects.filter(status=DrillStatus.RUNNING).select_related(
            "application", "region"):
        if drill.ends_at <= now:
            claimed = drill.restore_requested_at
            if claimed is None or claimed < now - restore_timeout():
                done.append(end(drill.pk))
            continue
        problem = outcome_problem(drill, now)
        if problem:
            done.append(abort(drill, problem))
    return done
