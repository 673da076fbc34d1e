"""What a rollout waits for between two waves of steps: a bake (the deployed regions' health
and the application's CloudWatch alarms stay good for the application's bake time) and then
the operator's approval after the main region.

A wave is a step's depth in the rollout's graph: the main region's first step is wave 0, the
regions that depend only on it wave 1, and each step of a replica chain one wave more. Nothing
here sleeps: `rollouts.advance` asks `hold` before queueing a wave, and a bake is checked again
by a task sent with a countdown (and by the reaper's advance, should that task be lost)."""

import math
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from lib import aws
from regions.validators import alarm_region
from watch.models import HealthSample, is_healthy

from .models import Action, Deployment, Gate, Level, Rollout, Status

# CloudFormation watches rollback triggers for at most this long after a stack operation.
MAX_MONITORING_MINUTES = 180


def waves(deployments: list[Deployment]) -> dict[int, int]:
    """Each step's wave (its depth in the graph), by deployment id."""
    by_id = {d.pk: d for d in deployments}
    depth: dict[int, int] = {}

    def of(d: Deployment) -> int:
        if d.pk not in depth:
            parents = [by_id[p.pk] for p in d.depends_on.all() if p.pk in by_id]
            depth[d.pk] = 1 + max((of(p) for p in parents), default=-1)
        return depth[d.pk]

    for d in deployments:
        of(d)
    return depth


def alarm_arns(application, region: str) -> list[str]:
    """The alarms that watch `region`: its own ARNs, and every plain name in that region."""
    arns = []
    for alarm in application.alarms or []:
        where = alarm_region(alarm)
        if where == region:
            arns.append(alarm)
        elif not where:
            arns.append(f"arn:aws:cloudwatch:{region}:{application.account_id}:alarm:{alarm}")
    return arns


def rollback_configuration(application, region: str) -> dict | None:
    """The change set's RollbackConfiguration: the region's alarms as rollback triggers,
    watched for the bake time after the stack operation; None without alarms."""
    arns = alarm_arns(application, region)
    if not arns:
        return None
    minutes = min(MAX_MONITORING_MINUTES, math.ceil(application.bake_seconds / 60))
    return {"RollbackTriggers": [{"Arn": arn, "Type": "AWS::CloudWatch::Alarm"} for arn in arns],
            "MonitoringTimeInMinutes": minutes}


@dataclass
class Hold:
    """Why the next wave waits: `gate` for the operator, `recheck` seconds for a bake."""

    gate: str
    recheck: float | None = None


def hold(rollout: Rollout, deployments: list[Deployment], ready: list[Deployment],
         now=None) -> Hold | None:
    """Whether the `ready` steps must wait; None when they may be queued now. A bake that
    fails ends the rollout (Hold with gate "failed")."""
    now = now or timezone.now()
    depth = waves(deployments)
    finished_wave = min(depth[d.pk] for d in ready) - 1
    if finished_wave < 0:
        return None
    bake = rollout.application.bake_seconds
    if bake > 0 and rollout.baked_waves <= finished_wave:
        done = [d for d in deployments if depth[d.pk] <= finished_wave]
        return _bake(rollout, done, finished_wave, bake, now)
    if rollout.require_approval and rollout.approved_at is None:
        if rollout.gate != Gate.APPROVAL and Rollout.objects.filter(
                pk=rollout.pk, status=Status.RUNNING).exclude(gate=Gate.APPROVAL).update(
                gate=Gate.APPROVAL, bake_until=None) == 1:
            rollout.gate = Gate.APPROVAL
            _log(done_steps(deployments, depth, finished_wave),
                 "Waiting for an operator's approval before the other regions.")
        return Hold(Gate.APPROVAL)
    if rollout.gate:
        Rollout.objects.filter(pk=rollout.pk).update(gate=Gate.NONE)
        rollout.gate = Gate.NONE
    return None


def done_steps(deployments, depth, wave) -> list[Deployment]:
    return [d for d in deployments if depth[d.pk] == wave]


def _log(steps: list[Deployment], message: str, level: str = Level.INFO) -> None:
    for d in steps[:1]:
        d.log(message, level=level)


def _bake(rollout: Rollout, done: list[Deployment], wave: int, bake: int, now) -> Hold:
    regions = sorted({d.region.code for d in done if d.action != Action.DESTROY_REGION
                      and d.status == Status.SUCCEEDED})
    last = [d for d in done if d.finished_at] or done
    if rollout.bake_until is None:
        until = now + timezone.timedelta(seconds=bake)
        if Rollout.objects.filter(pk=rollout.pk, status=Status.RUNNING, bake_until=None,
                                  baked_waves=rollout.baked_waves).update(
                gate=Gate.BAKE, bake_until=until) != 1:
            return Hold(Gate.BAKE)  # another caller started this bake
        rollout.gate, rollout.bake_until = Gate.BAKE, until
        alarms = len(rollout.application.alarms or [])
        _log(last[-1:], f"Baking {bake} s: watching the health of {', '.join(regions)}"
                        + (f" and {alarms} alarm(s)" if alarms else "")
                        + " before the next wave.")
        return Hold(Gate.BAKE, recheck=min(bake, settings.BAKE_CHECK_INTERVAL))
    started = rollout.bake_until - timezone.timedelta(seconds=bake)
    problems = health_problems(rollout, regions, started) + alarm_problems(rollout, regions)
    if problems:
        message = (f"Stopped before the next wave: during the bake after wave {wave}, "
                   + "; ".join(problems) + ". Roll back to an earlier rollout, or fix it and "
                   "deploy again.")
        _log(last[-1:], message, Level.ERROR)
        from .rollouts import end  # the one way a rollout ends (rollouts imports this module)

        end(rollout, Status.FAILED, message, reason="Not run: the bake before it failed.")
        return Hold("failed")
    if now < rollout.bake_until:
        left = (rollout.bake_until - now).total_seconds()
        return Hold(Gate.BAKE, recheck=min(left, settings.BAKE_CHECK_INTERVAL))
    if Rollout.objects.filter(pk=rollout.pk, baked_waves=rollout.baked_waves).update(
            baked_waves=wave + 1, bake_until=None, gate=Gate.NONE) == 1:
        rollout.baked_waves, rollout.bake_until, rollout.gate = wave + 1, None, Gate.NONE
        _log(last[-1:], f"Bake passed: {', '.join(regions)} stayed healthy for {bake} s.")
    return hold_after_bake(rollout)


def hold_after_bake(rollout: Rollout) -> Hold | None:
    if rollout.require_approval and rollout.approved_at is None:
        Rollout.objects.filter(pk=rollout.pk, status=Status.RUNNING).update(gate=Gate.APPROVAL)
        rollout.gate = Gate.APPROVAL
        return Hold(Gate.APPROVAL)
    return None


def health_problems(rollout: Rollout, regions: list[str], since) -> list[str]:
    """The regions whose Route 53 health check was unhealthy in a minute of the bake."""
    samples = HealthSample.objects.filter(
        region__application=rollout.application, region__code__in=regions,
        at__gte=since - timezone.timedelta(seconds=60), status__isnull=False,
    ).select_related("region").order_by("at")
    bad: dict[str, object] = {}
    for sample in samples:
        if not is_healthy(sample.status):
            bad.setdefault(sample.region.code, sample.at)
    return [f"{code} was unhealthy at {at:%H:%M} UTC (Route 53 health check)"
            for code, at in sorted(bad.items())]


def alarm_problems(rollout: Rollout, regions: list[str]) -> list[str]:
    """The application's alarms that are in ALARM (or cannot be read) in these regions."""
    application = rollout.application
    problems = []
    for region in regions:
        arns = alarm_arns(application, region)
        if not arns:
            continue
        names = [arn.split(":alarm:", 1)[1] for arn in arns]
        try:
            cloudwatch = aws.client("cloudwatch", region, application)
            answer = cloudwatch.describe_alarms(AlarmNames=names, AlarmTypes=["MetricAlarm",
                                                                              "CompositeAlarm"])
        except Exception as exc:  # noqa: BLE001 - any failure is a sentence, and stops the wave
            error = aws.AwsError.wrap(exc, service="cloudwatch", region=region)
            problems.append(f"the alarms could not be read ({error})")
            continue
        for alarm in answer.get("MetricAlarms", []) + answer.get("CompositeAlarms", []):
            if alarm.get("StateValue") == "ALARM":
                reason = (alarm.get("StateReason") or "").rstrip(".")
                problems.append(f"alarm {alarm['AlarmName']} in {region} is in ALARM"
                                + (f" ({reason})" if reason else ""))
    return problems
