"""Rollouts: start one, plan it, apply or confirm it, cancel it, and move it on as its steps
finish. Views, the API, tasks and commands call these functions. This is the only module
that sends deployer tasks to the queue; deployer.runs asks it to move a rollout on.

A rollout is a graph of deployments (`depends_on`) whose order deployer.planning gives.
Whenever a deployment finishes, `advance()` queues every deployment whose dependencies all
succeeded and cancels those behind a failure, so no worker ever waits for another.
"""

import importlib
from functools import partial

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.audit import Actor, record

from . import bootstrap, planning
from .cloudformation import EngineError
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
from .synth.templates import (  # noqa: F401 - Templates stays importable: other sources build it
    SYNTH_COST,
    Templates,
    synth_requests,
    synth_templates,
)


class Conflict(Exception):
    """Another rollout of the application is active."""

    def __init__(self, active_rollout_id: int | None):
        super().__init__("Another rollout of this application is already running"
                         + (f" (rollout {active_rollout_id})." if active_rollout_id else "."))
        self.active_rollout_id = active_rollout_id


class NotAllowed(Exception):
    """The rollout is not in a state that allows this."""


def _send(task: str, pk: int) -> None:
    """Queue a deployer task once the transaction commits."""
    # By name: deployer.tasks imports this module, so importing the tasks here would be a cycle.
    transaction.on_commit(partial(current_app.send_task, f"deployer.tasks.{task}", args=(pk,)))


def end(rollout: Rollout, status: str, explanation: str = "", **kwargs) -> bool:
    """End the rollout (Rollout.end); a worker then deletes the change sets it will never run."""
    if not rollout.end(status, explanation, **kwargs):
        return False
    if rollout.deployments.exclude(change_set_id="").exists():
        _send("discard_change_sets", rollout.pk)
    return True


def queue_again(d: Deployment) -> None:
    """Send a queued step's task again; the claim in the task makes a second delivery harmless."""
    _send("plan_deployment" if d.rollout.applied_at is None else "run_deployment", d.pk)


def follow_again(d: Deployment) -> None:
    """Have a worker follow a running step's stack to its end; nothing is executed again."""
    _send("follow_deployment", d.pk)


def template_source():
    """DEPLOYER_TEMPLATES names another source, e.g. for tests."""
    path = settings.DEPLOYER_TEMPLATES
    if not path:
        return synth_templates
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


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
                end(old, Status.CANCELLED, f"Superseded by rollout {rollout.pk}.",
                    from_statuses=(old.status,))
            record(actor, f"rollout.{kind}", rollout, application=application,
                   after={"rollout": rollout.pk, "kind": kind})
            _send("plan_rollout", rollout.pk)
    except IntegrityError:
        existing = active_rollout(application)
        raise Conflict(existing.pk if existing else None) from None
    return rollout


def start_plan(application, user, actor: Actor | None = None) -> Rollout:
    """Plan only: create every region's change set for review; nothing is executed."""
    return start_rollout(application, user, RolloutKind.PLAN, actor)


def pending_plan(application) -> Rollout | None:
    """A plan that waits for review and is still fresh enough to apply."""
    plan = application.rollouts.filter(
        status__in=[Status.PLANNED, Status.AWAITING_CONFIRMATION]).exclude(
        kind=RolloutKind.BOOTSTRAP).first()
    return None if plan is None or plan.plan_too_old else plan


def start_review(application, user, actor: Actor | None = None) -> tuple[Rollout, bool]:
    """The web's Deploy: the plan waiting for review, or a new plan to review.

    Returns (rollout, new): a pending plan is shown, never silently replaced."""
    plan = pending_plan(application)
    if plan is not None:
        return plan, False
    return start_plan(application, user, actor), True


def start_deploy(application, user, actor: Actor | None = None) -> Rollout:
    """Plan, then apply at once unless a stateful change waits for confirmation."""
    return start_rollout(application, user, RolloutKind.DEPLOY, actor)


def start_bootstrap(application, user, actor: Actor | None = None, region: str = "") -> Rollout:
    """Deploy the CDK bootstrap stack to the application's regions (or one), at once."""
    return start_rollout(application, user, RolloutKind.BOOTSTRAP, actor, only_region=region)


def plan_rollout(rollout_id: int, task_id: str = "") -> None:
    """In a worker: work out the steps, synthesize their templates, queue their change sets."""
    if not Rollout.claim(rollout_id, task_id):
        return
    rollout = Rollout.objects.select_related("application").get(pk=rollout_id)
    if rollout.kind == RolloutKind.BOOTSTRAP:
        plan_bootstrap(rollout)
        return
    application = rollout.application
    states = dict(application.regions.values_list("code", "state"))
    try:
        specs = planning.plan_steps(application.main_region, states, rollout.only_region)
    except planning.ReplicaStepError as exc:
        end(rollout, Status.ERROR, str(exc))
        return
    if not specs:
        end(rollout, Status.SUCCEEDED, "Nothing to deploy: the application has no regions.")
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
        end(rollout, Status.FAILED if failed else Status.ERROR, message)
        return
    for d in deployments:
        if d.status == Status.QUEUED:
            Deployment.objects.filter(pk=d.pk).update(heartbeat_at=timezone.now())
            _send("plan_deployment", d.pk)


def plan_bootstrap(rollout: Rollout) -> None:
    """A bootstrap rollout: one step per region, each the region's CDKToolkit stack."""
    regions = bootstrap.bootstrap_regions(rollout)
    if not regions:
        end(rollout, Status.SUCCEEDED, "Nothing to bootstrap: the application has no regions.")
        return
    for region in regions:
        d = bootstrap.create_step(rollout, region)
        _send("plan_deployment", d.pk)


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
    """One synth for every replica step (one app start when the app allows); templates stored
    per deployment and the synth's cost in the first step's log."""
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
    # The regional stacks are synthesized with the main region the app contract expects.
    requests = [
        (sorted({d.region.code for d in members} | {application.main_region}),
         list(final if group == ("final",) else group))
        for group, members in groups.items()
    ]

    def on_line(stream, line):
        first.log(line, source=EventSource.SYNTH,
                  level=Level.WARNING if stream == "stderr" else Level.INFO)

    for wanted, replicas in requests:
        first.log(f"Synth for {', '.join(wanted)} with replicas {', '.join(replicas) or 'none'}.",
                  source=EventSource.SYNTH)
    Rollout.objects.filter(pk=rollout.pk).update(heartbeat_at=timezone.now())
    results, cost = synth_requests(source, application, requests, on_line)
    if cost:
        first.log(cost, source=EventSource.SYNTH, status=SYNTH_COST)
    keys = []
    for members, result in zip(groups.values(), results, strict=True):
        keys.append(result.key)
        for d in members:
            if d.region.code not in result.stacks:
                raise EngineError(f"The synth produced no stack for {d.region.code}.")
            stack_name, template = result.stacks[d.region.code]
            d.template = template
            d.stack_name = stack_name or d.stack_name
            # The step finds its assembly (and assets) in the synth cache by this key.
            d.synth_key = result.key if result.assembly else ""
            d.needs = result.needs.get(d.region.code, {})
            d.save(update_fields=["template", "stack_name", "synth_key", "needs"])
    rollout.synth_key = ",".join(keys)[:128]
    rollout.save(update_fields=["synth_key"])


def after_plan(rollout_id: int) -> None:
    """When every change set is ready: the rollout is planned (or waits for confirmation)."""
    rollout = Rollout.objects.get(pk=rollout_id)
    deployments = list(rollout.deployments.select_related("region"))
    if rollout.status != Status.RUNNING or rollout.applied_at is not None:
        return
    if any(d.status in ACTIVE for d in deployments):
        return
    if rollout.cancel_requested_at is not None:
        end(rollout, Status.CANCELLED, "Cancelled while planning.")
        return
    broken = [d for d in deployments if d.status in (Status.ERROR, Status.FAILED)]
    if broken:
        message = "Planning failed: " + "; ".join(
            f"{d.region.code}: {d.explanation}" for d in broken)
        end(rollout, Status.ERROR, message, reason="Not run: planning failed in another region.")
        return
    flagged = [c for d in deployments for c in d.changes or [] if c.get("stateful_flag")]
    status = Status.AWAITING_CONFIRMATION if flagged else Status.PLANNED
    explanation = (f"{len(flagged)} change(s) replace or remove stateful resources; "
                   "confirm to apply." if flagged else "")
    if Rollout.objects.filter(pk=rollout.pk, status=Status.RUNNING, applied_at=None).update(
            status=status, needs_confirmation=bool(flagged), explanation=explanation,
            planned_at=timezone.now()) != 1:
        return
    if rollout.kind in (RolloutKind.DEPLOY, RolloutKind.BOOTSTRAP) and not flagged:
        rollout.refresh_from_db()
        begin_apply(rollout)


def begin_apply(rollout: Rollout) -> Rollout:
    try:
        with transaction.atomic():
            moved = Rollout.objects.filter(
                pk=rollout.pk, status__in=[Status.PLANNED, Status.AWAITING_CONFIRMATION],
            # An applied plan is a deploy: that is what the lists and tiles should say.
            ).update(status=Status.RUNNING, applied_at=timezone.now(),
                     kind=RolloutKind.BOOTSTRAP if rollout.kind == RolloutKind.BOOTSTRAP
                     else RolloutKind.DEPLOY,
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


def _refuse_old_plan(rollout: Rollout) -> None:
    if rollout.plan_too_old:
        minutes = round(rollout.plan_age() / 60)
        raise NotAllowed(f"This plan was made {minutes} minutes ago, longer than "
                         f"{round(settings.PLAN_MAX_AGE / 60)} minutes: the stacks may have "
                         "changed since. Plan again and review the new changes.")


def apply(rollout: Rollout, user, actor: Actor | None = None) -> Rollout:
    """Execute a reviewed plan. A plan with stateful changes must be confirmed instead."""
    rollout.refresh_from_db()
    _refuse_old_plan(rollout)
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
    _refuse_old_plan(rollout)
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
    """Queue what is ready, cancel what a failure blocks, end the rollout when all are done."""
    rollout = Rollout.objects.get(pk=rollout_id)
    if rollout.status != Status.RUNNING or rollout.applied_at is None:
        return
    deployments = list(rollout.deployments.select_related("region").prefetch_related(
        "depends_on"))
    by_id = {d.pk: d for d in deployments}
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
                    _send("run_deployment", d.pk)
    if all(d.status in FINISHED for d in deployments):
        end(rollout, *_outcome(rollout, deployments))


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


def cancel(rollout: Rollout, user, actor: Actor | None = None) -> Rollout:
    """Stop a rollout: steps not started are cancelled, running stacks are asked to cancel."""
    if Rollout.objects.filter(pk=rollout.pk, cancel_requested_at__isnull=True).exclude(
            status__in=FINISHED).update(cancel_requested_at=timezone.now()) != 1:
        rollout.refresh_from_db()
        raise NotAllowed(f"Rollout {rollout.pk} is {rollout.get_status_display().lower()}; "
                         "there is nothing to cancel.")
    record(actor or Actor(user), "rollout.cancel", rollout, application=rollout.application)
    rollout.deployments.filter(status__in=NOT_STARTED).cancel("Cancelled before it started.")
    end(rollout, Status.CANCELLED, "Cancelled.",
        from_statuses=(Status.QUEUED, Status.PLANNED, Status.AWAITING_CONFIRMATION))
    advance(rollout.pk)
    after_plan(rollout.pk)
    rollout.refresh_from_db()
    return rollout
