"""Drain, restore and force a region: guarded, one change per application at a time, audited,
and applied through both switches of its routing health check (traffic.routing)."""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.audit import Actor, record
from lib import aws, route53_budget
from regions.models import Application, Region, RegionState, Traffic

from . import guard, routing
from .health import current_health
from .models import ChangeStatus, Path, TrafficChange

# Regions whose stack may exist: only these can be switched.
SWITCHABLE = (RegionState.ACTIVE, RegionState.PROVISIONING, RegionState.FAILED,
              RegionState.REMOVING)
VERBS = {Traffic.DRAINED: "drain", Traffic.SERVING: "restore", Traffic.FORCED: "force"}
STATE_OF_VERB = {"drain": Traffic.DRAINED, "restore": Traffic.SERVING, "force": Traffic.FORCED,
                 **{s.value: s for s in Traffic}}


class TrafficError(Exception):
    """The request cannot be carried out as asked (unknown region, no routing check)."""

    status = 400


class Refused(TrafficError):
    """The guard, or another change under way, refuses it: the reason is in words."""

    status = 409


def region_views(application: Application) -> list[guard.RegionView]:
    health = current_health(application)
    return [guard.RegionView(r.code, r.traffic, health.get(r.pk))
            for r in application.regions.filter(state__in=SWITCHABLE).order_by("code")]


def _clear_abandoned(application: Application, now) -> None:
    """A change whose worker died mid-way does not block the next one forever."""
    cutoff = now - timedelta(seconds=settings.TRAFFIC_CHANGE_TIMEOUT)
    TrafficChange.objects.filter(application=application, status=ChangeStatus.APPLYING,
                                 requested_at__lt=cutoff).update(
        status=ChangeStatus.FAILED, finished_at=now,
        route53_error="Abandoned: not finished within TRAFFIC_CHANGE_TIMEOUT seconds.")


def change_traffic(application: Application, code: str, state: str, actor: Actor,
                   reason: str = "") -> TrafficChange:
    """Record the region's new traffic state, then switch it; raises TrafficError/Refused."""
    state = STATE_OF_VERB.get(state, state)
    region = application.regions.filter(code=code).first()
    if region is None:
        raise TrafficError(f"{code} is not a region of {application.slug}.")
    if region.state not in SWITCHABLE:
        raise TrafficError(f"{code} is {region.get_state_display().lower()}: only a deployed "
                           "region's traffic can be switched.")
    try:
        checks = routing.checks_of(region)
    except routing.NoRoutingCheck as exc:
        raise Refused(str(exc)) from None
    now = timezone.now()
    try:
        with transaction.atomic():
            Application.objects.select_for_update().filter(pk=application.pk).first()
            _clear_abandoned(application, now)
            busy = TrafficChange.objects.filter(application=application,
                                                status=ChangeStatus.APPLYING).first()
            if busy is not None:
                raise Refused(f"Another traffic change of {application.slug} is under way "
                              f"({busy}, requested by {busy.actor_name}); try again when it "
                              "has finished.")
            why = guard.refusal(region_views(application), code, state, application.min_serving)
            if why:
                raise Refused(why)
            region.refresh_from_db()
            change = TrafficChange.objects.create(
                application=application, region=region, from_state=region.traffic,
                to_state=state, reason=reason[:500], actor_name=actor.name,
                source=actor.source, requested_at=now)
            Region.objects.filter(pk=region.pk).update(traffic=state, traffic_changed_at=now)
            record(actor, f"traffic.{VERBS[state]}", region, application=application,
                   before={"traffic": change.from_state},
                   after={"traffic": state, "reason": reason[:500]})
    except IntegrityError:
        raise Refused(f"Another traffic change of {application.slug} is under way; try again "
                      "when it has finished.") from None
    apply(change, checks)
    return change


def _known_version(change: TrafficChange, checks: routing.Checks) -> int | None:
    """The routing check's version after the region's last change, if it is the same check."""
    last = (TrafficChange.objects.filter(region=change.region, health_check_version__isnull=False)
            .exclude(pk=change.pk).order_by("-requested_at").first())
    if last is None or (change.region.outputs or {}).get("RoutingCheckId") != checks.routing:
        return None
    return last.health_check_version


def _last_drain_path(change: TrafficChange) -> str:
    last = (TrafficChange.objects.filter(region=change.region, to_state=Traffic.DRAINED,
                                         status=ChangeStatus.APPLIED)
            .exclude(pk=change.pk).order_by("-requested_at").first())
    return last.path if last else Path.NONE


def apply(change: TrafficChange, checks: routing.Checks) -> TrafficChange:
    """Both switches, fast path first; records which acted and settles the change."""
    application = change.application
    code = change.region.code
    state = change.to_state
    try:
        change.health_check_version = routing.set_threshold(application, checks, state,
                                                             _known_version(change, checks))
        change.route53_at = timezone.now()
    except (aws.AwsError, route53_budget.Route53Busy) as exc:
        change.route53_error = _sentence(exc)
        if state == Traffic.DRAINED:
            _ensure_alarm_quietly(application, code)
    try:
        routing.put_drained(application, code, state == Traffic.DRAINED)
        change.cloudwatch_at = timezone.now()
    except aws.AwsError as exc:
        change.cloudwatch_error = str(exc)
    r53, cw = change.route53_at is not None, change.cloudwatch_at is not None
    change.path = (Path.BOTH if r53 and cw else Path.ROUTE53 if r53 else
                   Path.CLOUDWATCH if cw else Path.NONE)
    if state == Traffic.DRAINED:
        done = r53 or cw
    elif state == Traffic.SERVING:
        # The threshold must come back unless the drain never moved it.
        done = cw and (r53 or _last_drain_path(change) == Path.CLOUDWATCH)
    else:
        done = r53  # forcing has no data-plane switch
    change.status = ChangeStatus.APPLIED if done else ChangeStatus.FAILED
    change.finished_at = timezone.now()
    change.save()
    if not done:
        # The inventory says what is true: the region is still as it was.
        Region.objects.filter(pk=change.region_id, traffic=state).update(
            traffic=change.from_state)
    return change


def _ensure_alarm_quietly(application, code: str) -> None:
    try:
        routing.ensure_alarm(application, code)
    except aws.AwsError:
        pass  # put_drained reports the control region's trouble itself


def _sentence(exc: Exception) -> str:
    if isinstance(exc, route53_budget.Route53Busy):
        return ("Route 53: the request budget had no slot within 2 s (other calls are using "
                "it); the drain alarm acted instead.")
    return str(exc)


def failure_message(change: TrafficChange) -> str:
    """One sentence for a change that did not take effect."""
    errors = " ".join(e for e in (change.route53_error, change.cloudwatch_error) if e)
    return (f"{VERBS[change.to_state].capitalize()} of {change.region.code} failed; it is "
            f"still {Traffic(change.from_state).label.lower()}. {errors}")


def sync_after_deploy(application, code: str, outputs: dict, endpoint: str) -> str:
    """After a deploy: make the routing check say what the inventory says (the template does;
    an emulator may not), so a deploy never undoes a drain. Returns a line for the log."""
    region = application.regions.filter(code=code).first()
    routing_id, control = outputs.get("RoutingCheckId"), outputs.get("ControlCheckId")
    if region is None or not (routing_id and control and endpoint):
        return ""
    checks = routing.Checks(routing=routing_id, endpoint=endpoint, control=control)
    seen = routing.read_threshold(application, routing_id)
    wanted = routing.threshold(region.traffic)
    if seen == wanted:
        return ""
    routing.set_threshold(application, checks, region.traffic)
    return (f"Routing health check {routing_id}: threshold {seen} set to {wanted} "
            f"({Traffic(region.traffic).label.lower()}, as the inventory says).")
