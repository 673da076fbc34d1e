"""Rollouts: plan every region, then apply in order. Views, the API, tasks and commands call
these functions; deployer.tasks only loads ids and calls them.

Order. A rollout is a graph of deployments (`depends_on`). The main region goes first,
alone; the other regions depend only on it and run in parallel. When regions are added or
removed, deployer.planning.replica_steps gives a chain of steps (one replica per main-stack
update) and each step depends on the one before. Whenever a deployment finishes,
`advance()` queues every deployment whose dependencies all succeeded and cancels those
behind a failure, so no worker ever waits for another.
"""

import importlib
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from regions import aws
from regions.models import Region, RegionState
from regions.services import Actor, record, set_region_state

from . import planning
from .cloudformation import FAILED_STATUSES, Engine, EngineError, Outcome
from .models import (
    ACTIVE,
    FINISHED,
    NOT_STARTED,
    Action,
    Deployment,
    EventSource,
    Level,
    Rollout,
    RolloutKind,
    Status,
)
from .synth import SynthError

logger = logging.getLogger(__name__)

class Conflict(Exception):
    """Another rollout of the application is active."""

    def __init__(self, active_rollout_id: int | None):
        super().__init__("Another rollout of this application is already running"
                         + (f" (rollout {active_rollout_id})." if active_rollout_id else "."))
        self.active_rollout_id = active_rollout_id


class NotAllowed(Exception):
    """The rollout is not in a state that allows this."""


# -- templates ---------------------------------------------------------------------------------


@dataclass
class Templates:
    key: str
    stacks: dict[str, tuple[str, dict]]  # region -> (stack name, template)
    lines: list[tuple[str, str]]


def synth_templates(application, regions, replica_regions, on_line=None) -> Templates:
    """The default template source: one CDK synth for all the given regions."""
    from .synth import synth_application

    result = synth_application(application, regions=list(regions),
                               replica_regions=list(replica_regions), on_line=on_line)
    return Templates(
        key=result.key,
        stacks={code: (a.stack_name, a.template) for code, a in result.stacks.items()},
        lines=list(result.lines),
    )


def template_source():
    """DEPLOYER_TEMPLATES names another source, e.g. for tests."""
    path = settings.DEPLOYER_TEMPLATES
    if not path:
        return synth_templates
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


# -- starting ----------------------------------------------------------------------------------


def active_rollout(application) -> Rollout | None:
    return application.rollouts.filter(status__in=ACTIVE).first()


def start_rollout(application, user, kind: str = RolloutKind.PLAN,
                  actor: Actor | None = None, only_region: str = "") -> Rollout:
    """Create a rollout and queue its plan. Raises Conflict when one is active."""
    actor = actor or Actor(user)
    existing = active_rollout(application)
    if existing is not None:
        raise Conflict(existing.pk)
    try:
        with transaction.atomic():
            rollout = Rollout.objects.create(
                application=application, kind=kind, status=Status.QUEUED,
                only_region=only_region,
                requested_by=user if getattr(user, "is_authenticated", False) else None,
            )
            # A newer plan makes older unapplied ones stale.
            stale = application.rollouts.filter(
                status__in=[Status.PLANNED, Status.AWAITING_CONFIRMATION]).exclude(pk=rollout.pk)
            for old in stale:
                old.end(Status.CANCELLED, f"Superseded by rollout {rollout.pk}.",
                        from_statuses=(old.status,))
            record(actor, f"rollout.{kind}", rollout, application=application,
                   after={"rollout": rollout.pk, "kind": kind})
            from . import tasks

            tasks.plan_rollout.delay_on_commit(rollout.pk)
    except IntegrityError:
        existing = active_rollout(application)
        raise Conflict(existing.pk if existing else None) from None
    return rollout


def start_plan(application, user, actor: Actor | None = None) -> Rollout:
    return start_rollout(application, user, RolloutKind.PLAN, actor)


def deploy(application, user, actor: Actor | None = None) -> Rollout:
    """Plan, then apply at once unless a stateful change waits for confirmation."""
    return start_rollout(application, user, RolloutKind.DEPLOY, actor)


# -- planning (runs in a worker) -------------------------------------------------------------


def plan_rollout(rollout_id: int, task_id: str = "") -> None:
    now = timezone.now()
    claimed = Rollout.objects.filter(pk=rollout_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=now, heartbeat_at=now, task_id=task_id)
    if claimed != 1:
        return
    rollout = Rollout.objects.select_related("application").get(pk=rollout_id)
    application = rollout.application
    states = dict(application.regions.values_list("code", "state"))
    try:
        specs = planning.plan_steps(application.main_region, states, rollout.only_region)
    except planning.ReplicaStepError as exc:
        rollout.end(Status.ERROR, str(exc))
        return
    if not specs:
        rollout.end(Status.SUCCEEDED, "Nothing to deploy: the application has no regions.")
        return
    regions = {r.code: r for r in application.regions.all()}
    deployments = create_deployments(rollout, specs, regions)
    try:
        synthesize(rollout, deployments)
    except Exception as exc:  # noqa: BLE001 - a synth failure of any kind ends the plan
        message = f"Synth failed: {exc}"
        deployments[0].log(message, source=EventSource.SYNTH, level=Level.ERROR)
        # The app ran and failed (or broke the contract): failed; anything else: error.
        failed = isinstance(exc, SynthError) and not getattr(exc, "retryable", False)
        rollout.end(Status.FAILED if failed else Status.ERROR, message)
        return
    from . import tasks

    for d in deployments:
        if d.status == Status.QUEUED:
            Deployment.objects.filter(pk=d.pk).update(heartbeat_at=timezone.now())
            tasks.plan_deployment.delay_on_commit(d.pk)


@transaction.atomic
def create_deployments(rollout: Rollout, specs: list[planning.StepSpec], regions: dict) -> list:
    deployments: list[Deployment] = []
    first_per_stack: set[str] = set()
    for index, spec in enumerate(specs):
        region = regions[spec.region]
        stack_name = region.stack_name or region.default_stack_name()
        # Later steps on a stack get their change set when their turn comes: one created now
        # would be made obsolete by the earlier step's execution.
        deferred = stack_name in first_per_stack
        first_per_stack.add(stack_name)
        d = Deployment.objects.create(
            rollout=rollout, region=region, step=index, action=spec.action,
            replicas=list(spec.replicas), stack_name=stack_name,
            status=Status.PLANNED if deferred else Status.QUEUED,
            explanation="The change set is created when this step's turn comes." if deferred
            else "",
        )
        d.depends_on.set([deployments[i] for i in spec.depends_on])
        deployments.append(d)
    return deployments


def synthesize(rollout: Rollout, deployments: list[Deployment]) -> None:
    """One synth per distinct replica list (usually one); templates stored per deployment."""
    source = template_source()
    first = deployments[0]
    application = rollout.application
    groups: dict[tuple, list[Deployment]] = {}
    for d in deployments:
        if d.action == Action.DESTROY_REGION:
            continue
        key = tuple(d.replicas) if d.action == Action.UPDATE_MAIN else ("final",)
        groups.setdefault(key, []).append(d)
    final = max((tuple(d.replicas) for d in deployments if d.action != Action.DESTROY_REGION),
                key=len, default=())
    keys = []
    for group, members in groups.items():
        replicas = final if group == ("final",) else group
        # The regional stacks are synthesized with the main region the app contract expects.
        wanted = sorted({d.region.code for d in members} | {application.main_region})

        def on_line(stream, line):
            first.log(line, source=EventSource.SYNTH,
                      level=Level.WARNING if stream == "stderr" else Level.INFO)

        first.log(f"Synth for {', '.join(wanted)} with replicas {', '.join(replicas) or 'none'}.",
                  source=EventSource.SYNTH)
        Rollout.objects.filter(pk=rollout.pk).update(heartbeat_at=timezone.now())
        result = source(application, wanted, list(replicas), on_line=on_line)
        keys.append(result.key)
        for d in members:
            if d.region.code not in result.stacks:
                raise EngineError(f"The synth produced no stack for {d.region.code}.")
            stack_name, template = result.stacks[d.region.code]
            d.template = template
            d.stack_name = stack_name or d.stack_name
            d.save(update_fields=["template", "stack_name"])
    rollout.synth_key = ",".join(keys)[:128]
    rollout.save(update_fields=["synth_key"])


def plan_deployment(deployment_id: int, task_id: str = "") -> None:
    """Create one region's change set."""
    now = timezone.now()
    claimed = Deployment.objects.filter(pk=deployment_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=now, heartbeat_at=now, task_id=task_id)
    if claimed != 1:
        return
    d = Deployment.objects.select_related("rollout__application", "region").get(pk=deployment_id)
    try:
        if d.action == Action.DESTROY_REGION:
            d.changes = [{"logical_id": d.stack_name, "type": "AWS::CloudFormation::Stack",
                          "action": "Remove", "replacement": False, "stateful_flag": True}]
            d.resources_total = 1
            d.save(update_fields=["changes", "resources_total"])
            d.log(f"Stack {d.stack_name} will be deleted when the rollout is applied.")
            status, explanation = Status.PLANNED, ""
        else:
            engine = Engine(d, heartbeat=lambda: _bump(deployment_id))
            changed = engine.create_change_set(d.template or {})
            status = Status.PLANNED
            explanation = "" if changed else "No changes."
    except (EngineError, aws.AwsError) as exc:
        d.log(str(exc), level=Level.ERROR)
        status, explanation = Status.ERROR, str(exc)
    Deployment.objects.filter(pk=d.pk, status=Status.RUNNING).update(
        status=status, explanation=explanation,
        finished_at=timezone.now() if status == Status.ERROR else None)
    after_plan(d.rollout_id)


def after_plan(rollout_id: int) -> None:
    """When every change set is ready: the rollout is planned (or waits for confirmation)."""
    rollout = Rollout.objects.get(pk=rollout_id)
    deployments = list(rollout.deployments.select_related("region"))
    if rollout.status != Status.RUNNING or rollout.applied_at is not None:
        return
    if any(d.status in ACTIVE for d in deployments):
        return
    if rollout.cancel_requested_at is not None:
        rollout.end(Status.CANCELLED, "Cancelled while planning.")
        return
    broken = [d for d in deployments if d.status in (Status.ERROR, Status.FAILED)]
    if broken:
        message = "Planning failed: " + "; ".join(
            f"{d.region.code}: {d.explanation}" for d in broken)
        rollout.end(Status.ERROR, message, reason="Not run: planning failed in another region.")
        return
    flagged = [c for d in deployments for c in d.changes or [] if c.get("stateful_flag")]
    status = Status.AWAITING_CONFIRMATION if flagged else Status.PLANNED
    explanation = (f"{len(flagged)} change(s) replace or remove stateful resources; "
                   "confirm to apply." if flagged else "")
    if Rollout.objects.filter(pk=rollout.pk, status=Status.RUNNING, applied_at=None).update(
            status=status, needs_confirmation=bool(flagged), explanation=explanation) != 1:
        return
    if rollout.kind == RolloutKind.DEPLOY and not flagged:
        rollout.refresh_from_db()
        begin_apply(rollout)


# -- applying ----------------------------------------------------------------------------------


def begin_apply(rollout: Rollout) -> Rollout:
    try:
        with transaction.atomic():
            moved = Rollout.objects.filter(
                pk=rollout.pk, status__in=[Status.PLANNED, Status.AWAITING_CONFIRMATION],
            ).update(status=Status.RUNNING, applied_at=timezone.now(),
                     started_at=timezone.now(), heartbeat_at=timezone.now())
    except IntegrityError:
        existing = active_rollout(rollout.application)
        raise Conflict(existing.pk if existing else None) from None
    if moved != 1:
        rollout.refresh_from_db()
        raise NotAllowed(f"Rollout {rollout.pk} is {rollout.get_status_display().lower()}; "
                         "only a planned rollout can be applied.")
    advance(rollout.pk)
    rollout.refresh_from_db()
    return rollout


def apply(rollout: Rollout, user, actor: Actor | None = None) -> Rollout:
    """Execute a reviewed plan. A plan with stateful changes must be confirmed instead."""
    rollout.refresh_from_db()
    if rollout.status == Status.AWAITING_CONFIRMATION:
        raise NotAllowed("This plan replaces or removes stateful resources: confirm it.")
    existing = active_rollout(rollout.application)
    if existing is not None and existing.pk != rollout.pk:
        raise Conflict(existing.pk)
    rollout = begin_apply(rollout)
    record(actor or Actor(user), "rollout.apply", rollout, application=rollout.application)
    return rollout


def confirm(rollout: Rollout, user, actor: Actor | None = None) -> Rollout:
    """Confirm the stateful changes of a plan and apply it."""
    rollout.refresh_from_db()
    if not rollout.can_confirm:
        raise NotAllowed(f"Rollout {rollout.pk} is {rollout.get_status_display().lower()}; "
                         "there is nothing to confirm.")
    Rollout.objects.filter(pk=rollout.pk).update(
        confirmed_by=user if getattr(user, "is_authenticated", False) else None,
        confirmed_at=timezone.now())
    rollout = begin_apply(rollout)
    record(actor or Actor(user), "rollout.confirm", rollout, application=rollout.application)
    return rollout


def advance(rollout_id: int) -> None:
    """Queue what is ready, cancel what a failure blocks, finish the rollout when all are done."""
    rollout = Rollout.objects.get(pk=rollout_id)
    if rollout.status != Status.RUNNING or rollout.applied_at is None:
        return
    deployments = list(rollout.deployments.select_related("region").prefetch_related(
        "depends_on"))
    by_id = {d.pk: d for d in deployments}
    from . import tasks

    changed = True
    while changed:
        changed = False
        for d in deployments:
            if d.status != Status.PLANNED:
                continue
            parents = [by_id[p.pk] for p in d.depends_on.all()]
            blocked = [p for p in parents if p.status in (Status.FAILED, Status.ERROR,
                                                          Status.CANCELLED)]
            if blocked or rollout.cancel_requested_at:
                reason = ("Not run: the rollout was cancelled." if not blocked else
                          f"Not run: step {blocked[0].step} ({blocked[0].region.code}) "
                          f"{blocked[0].status}.")
                if Deployment.objects.filter(pk=d.pk, status=Status.PLANNED).cancel(reason) == 1:
                    d.status = Status.CANCELLED
                    d.log(reason, level=Level.WARNING)
                    changed = True
            elif all(p.status == Status.SUCCEEDED for p in parents):
                try:
                    with transaction.atomic():
                        moved = Deployment.objects.filter(pk=d.pk, status=Status.PLANNED).update(
                            status=Status.QUEUED, heartbeat_at=timezone.now())
                except IntegrityError:
                    # The region is busy with another deployment; its finish advances us.
                    continue
                if moved == 1:
                    d.status = Status.QUEUED
                    tasks.run_deployment.delay_on_commit(d.pk)
    if all(d.status in FINISHED for d in deployments):
        rollout.end(*_outcome(rollout, deployments))


def _outcome(rollout: Rollout, deployments: list[Deployment]) -> tuple[str, str]:
    """The status and explanation of a rollout whose steps have all finished."""
    statuses = {d.status for d in deployments}
    if Status.FAILED in statuses:
        status = Status.FAILED
    elif Status.ERROR in statuses:
        status = Status.ERROR
    elif rollout.cancel_requested_at is not None and Status.CANCELLED in statuses:
        status = Status.CANCELLED
    elif Status.CANCELLED in statuses:
        status = Status.FAILED
    else:
        status = Status.SUCCEEDED
    bad = [d for d in deployments if d.status in (Status.FAILED, Status.ERROR)]
    return status, "; ".join(f"{d.region.code}: {d.explanation}" for d in bad)[:2000]


def _bump(deployment_id: int) -> None:
    Deployment.objects.filter(pk=deployment_id).update(heartbeat_at=timezone.now())


def _cancel_requested(rollout_id: int) -> bool:
    return Rollout.objects.filter(pk=rollout_id, cancel_requested_at__isnull=False).exists()


def run_deployment(deployment_id: int, task_id: str = "") -> None:
    """Execute one step: its reviewed change set (or the stack's deletion), then follow it."""
    now = timezone.now()
    claimed = Deployment.objects.filter(pk=deployment_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=now, heartbeat_at=now, finished_at=None,
        task_id=task_id)
    if claimed != 1:
        return
    d = Deployment.objects.select_related("rollout__application", "region").get(pk=deployment_id)
    try:
        _run(d)
    finally:
        advance(d.rollout_id)


def _run(d: Deployment) -> None:
    rollout = d.rollout
    engine = Engine(d, heartbeat=lambda: _bump(d.pk),
                    should_cancel=lambda: _cancel_requested(rollout.pk))
    region_starting(d)
    try:
        if d.action == Action.DESTROY_REGION:
            engine.delete()
            outcome = engine.follow(deleting=True)
        else:
            if not d.change_set_id:
                changed = engine.create_change_set(d.template or {})
                if d.stateful_changes and rollout.confirmed_at is None:
                    finish_deployment(d, Status.FAILED, "This step replaces or removes "
                                      "stateful resources and the rollout was not confirmed.")
                    return
            else:
                changed = bool(d.changes)
            if not changed:
                # Nothing runs, so the stack's status (maybe an earlier rollback) is not ours.
                d.outputs = engine.outputs(engine.describe_stack())
                d.save(update_fields=["outputs"])
                finish_deployment(d, Status.SUCCEEDED, "No changes.")
                return
            engine.execute()
            outcome = engine.follow()
        settle(d, outcome)
    except EngineError as exc:
        d.log(str(exc), level=Level.ERROR)
        finish_deployment(d, Status.FAILED if d.executed_at else Status.ERROR, str(exc))
    except aws.AwsError as exc:
        d.log(str(exc), level=Level.ERROR)
        note = " The stack may still be changing; the reaper settles it." if d.executed_at else ""
        finish_deployment(d, Status.ERROR, f"{exc}{note}")
    except Exception as exc:
        # A time limit or a bug: never leave the row claiming a worker owns it.
        d.log(f"Stopped: {type(exc).__name__}: {exc}", level=Level.ERROR)
        finish_deployment(d, Status.ERROR, f"Stopped: {type(exc).__name__}: {exc}")
        raise


def follow_deployment(deployment_id: int, task_id: str = "") -> None:
    """Resume following a stack whose worker was lost; never executes anything again."""
    d = Deployment.objects.select_related("rollout__application", "region").get(pk=deployment_id)
    if d.status != Status.RUNNING:
        return
    Deployment.objects.filter(pk=d.pk).update(task_id=task_id, heartbeat_at=timezone.now())
    engine = Engine(d, heartbeat=lambda: _bump(d.pk),
                    should_cancel=lambda: _cancel_requested(d.rollout_id))
    try:
        outcome = engine.follow(deleting=d.action == Action.DESTROY_REGION)
        settle(d, outcome, "Followed to the end after its worker was lost.")
    except (EngineError, aws.AwsError) as exc:
        d.log(str(exc), level=Level.ERROR)
        finish_deployment(d, Status.ERROR, str(exc))
    finally:
        advance(d.rollout_id)


def settle(d: Deployment, outcome: Outcome, note: str = "") -> None:
    """Finish a deployment from the stack's terminal status and update its region."""
    status = outcome.status
    cancelled = _cancel_requested(d.rollout_id) and status == "UPDATE_ROLLBACK_COMPLETE"
    if d.action == Action.DESTROY_REGION:
        ok = status == "DELETE_COMPLETE"
    else:
        ok = status not in FAILED_STATUSES and status != "DELETE_COMPLETE" and bool(status)
    d.outputs = outcome.outputs
    d.save(update_fields=["outputs"])
    if ok:
        explanation = " ".join(p for p in [note, f"Stack {status}." if status else ""] if p)
        finish_deployment(d, Status.SUCCEEDED, explanation)
    else:
        reason = outcome.reason or f"The stack ended in {status or 'an unknown state'}."
        final = Status.CANCELLED if cancelled else Status.FAILED
        finish_deployment(d, final, " ".join(p for p in [note, f"{status}: {reason}"] if p))


def finish_deployment(d: Deployment, status: str, explanation: str) -> None:
    """End a running step, log it and update its region, unless another caller ended it."""
    if not d.end(status, explanation):
        return
    d.log(f"Deployment {status}: {explanation}" if explanation else f"Deployment {status}.",
          level=Level.INFO if status == Status.SUCCEEDED else Level.ERROR)
    region_finished(d)


# -- region lifecycle --------------------------------------------------------------------------


def _system() -> Actor:
    return Actor(None, "system")


def region_starting(d: Deployment) -> None:
    region = Region.objects.get(pk=d.region_id)
    if d.action != Action.DESTROY_REGION and region.state in (RegionState.PLANNED,
                                                              RegionState.FAILED):
        set_region_state(region, RegionState.PROVISIONING, _system())


def region_finished(d: Deployment) -> None:
    region = Region.objects.select_related("application").get(pk=d.region_id)
    outputs = d.outputs or {}
    fields = {}
    if outputs:
        fields = {
            "outputs": outputs,
            "health_check_id": outputs.get("HealthCheckId", region.health_check_id)[:64],
            "api_url": outputs.get("ApiUrl", region.api_url)[:2048],
            "rest_api_id": outputs.get("RestApiId", region.rest_api_id)[:64],
        }
    if d.action == Action.DESTROY_REGION:
        if d.status == Status.SUCCEEDED and region.state == RegionState.DRAINING:
            set_region_state(region, RegionState.REMOVED, _system(), health_check_id="",
                             api_url="", rest_api_id="", outputs={})
        return
    if d.status == Status.SUCCEEDED:
        if region.state == RegionState.PROVISIONING:
            # A main region stays provisioning until the rollout's last step on it.
            later = d.rollout.deployments.filter(region=region, step__gt=d.step).exclude(
                status__in=FINISHED).exists()
            if not later:
                set_region_state(region, RegionState.ACTIVE, _system(), **fields)
                return
        if fields:
            before = region.audit_snapshot()
            Region.objects.filter(pk=region.pk).update(updated_at=timezone.now(), **fields)
            region.refresh_from_db()
            if region.audit_snapshot() != before:
                # New stack outputs (a replaced health check, say) are part of the history.
                record(_system(), "region.outputs", region, application=region.application,
                       before=before, after=region.audit_snapshot())
    elif d.status in (Status.FAILED, Status.ERROR) and region.state == RegionState.PROVISIONING:
        set_region_state(region, RegionState.FAILED, _system(), **fields)


# -- cancel ------------------------------------------------------------------------------------


def cancel(rollout: Rollout, user, actor: Actor | None = None) -> Rollout:
    """Stop a rollout: steps not started are cancelled, running stacks are asked to cancel."""
    if Rollout.objects.filter(pk=rollout.pk, cancel_requested_at__isnull=True).exclude(
            status__in=FINISHED).update(cancel_requested_at=timezone.now()) != 1:
        rollout.refresh_from_db()
        raise NotAllowed(f"Rollout {rollout.pk} is {rollout.get_status_display().lower()}; "
                         "there is nothing to cancel.")
    record(actor or Actor(user), "rollout.cancel", rollout, application=rollout.application)
    rollout.deployments.filter(status__in=NOT_STARTED).cancel("Cancelled before it started.")
    rollout.end(Status.CANCELLED, "Cancelled.",
                from_statuses=(Status.QUEUED, Status.PLANNED, Status.AWAITING_CONFIRMATION))
    advance(rollout.pk)
    after_plan(rollout.pk)
    rollout.refresh_from_db()
    return rollout


# -- the reaper --------------------------------------------------------------------------------


def reap(now=None) -> list[str]:
    """Settle deployments whose worker stopped refreshing their heartbeat.

    The truth comes from CloudFormation: a change set still AVAILABLE never ran (error); a
    stack still *_IN_PROGRESS is followed again by a follow-only task; a terminal stack
    status settles the deployment; a missing stack is an error. Returns what it did."""
    now = now or timezone.now()
    cutoff = now - timezone.timedelta(seconds=settings.DEPLOY_HEARTBEAT_TIMEOUT)
    done: list[str] = []
    from . import tasks

    for d in Deployment.objects.filter(status=Status.RUNNING, heartbeat_at__lt=cutoff):
        # The heartbeat is the claim: two reapers never settle the same deployment.
        if Deployment.objects.filter(pk=d.pk, status=Status.RUNNING,
                                     heartbeat_at=d.heartbeat_at).update(heartbeat_at=now) != 1:
            continue
        d = Deployment.objects.select_related("rollout__application", "region").get(pk=d.pk)
        done.append(reap_one(d, tasks))
    for d in Deployment.objects.select_related("rollout").filter(
            status=Status.QUEUED, heartbeat_at__lt=cutoff):
        if Deployment.objects.filter(pk=d.pk, status=Status.QUEUED,
                                     heartbeat_at=d.heartbeat_at).update(heartbeat_at=now) == 1:
            # The claim in the task makes a second delivery harmless.
            task = tasks.plan_deployment if d.rollout.applied_at is None else tasks.run_deployment
            task.delay(d.pk)
            done.append(f"deployment {d.pk}: queued again")
    synth_cutoff = cutoff - timezone.timedelta(seconds=settings.SYNTH_TIMEOUT)
    for rollout in Rollout.objects.filter(status=Status.RUNNING, heartbeat_at__lt=cutoff):
        never_sent = rollout.deployments.filter(status=Status.QUEUED, heartbeat_at=None)
        if (rollout.applied_at is None and rollout.heartbeat_at < synth_cutoff
                and never_sent.exists()):
            # The planning worker died during the synth: its steps were never sent anywhere.
            if rollout.end(Status.ERROR, "The worker stopped while synthesizing the templates."):
                done.append(f"rollout {rollout.pk}: error (worker lost while synthesizing)")
            continue
        if rollout.deployments.filter(status__in=ACTIVE).exists():
            continue
        if rollout.applied_at is None and not rollout.deployments.exists():
            if rollout.end(Status.ERROR, "The worker stopped while planning."):
                done.append(f"rollout {rollout.pk}: error (worker lost while planning)")
        elif rollout.applied_at is None:
            after_plan(rollout.pk)
        else:
            advance(rollout.pk)
    return done


def reap_one(d: Deployment, tasks) -> str:
    if d.rollout.applied_at is None:
        message = "The worker stopped while creating the change set."
        d.log(message, level=Level.ERROR)
        finish_deployment(d, Status.ERROR, message)
        after_plan(d.rollout_id)
        return f"deployment {d.pk}: error (lost while planning)"
    engine = Engine(d)
    try:
        verdict, outcome = engine.settle_from_stack()
    except aws.AwsError as exc:
        d.log(f"The reaper could not read the stack: {exc}", level=Level.WARNING)
        return f"deployment {d.pk}: left running ({exc.code})"
    if verdict == "in_progress":
        d.log("The worker was lost while CloudFormation is still working; following the stack "
              "again (nothing is executed twice).", level=Level.WARNING)
        tasks.follow_deployment.delay(d.pk)
        return f"deployment {d.pk}: following again"
    if verdict == "finished":
        engine.follow_once()
        settle(d, outcome, "Settled from the stack status after its worker was lost.")
        advance(d.rollout_id)
        return f"deployment {d.pk}: {d.status}"
    message = ("The worker was lost before the change set was executed; nothing was changed."
               if verdict == "not_executed" else
               f"The worker was lost and stack {d.stack_name} does not exist.")
    d.log(message, level=Level.ERROR)
    finish_deployment(d, Status.ERROR, message)
    advance(d.rollout_id)
    return f"deployment {d.pk}: error ({verdict})"

