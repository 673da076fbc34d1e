"""Rollouts: start one, plan it, apply or confirm it, cancel it, and move it on as its steps
finish. Views, the API, tasks and commands call these functions. This is the only module
that sends deployer tasks to the queue; deployer.runs asks it to move a rollout on.

A rollout is a graph of deployments (`depends_on`) whose order deployer.planning gives.
Whenever a deployment finishes, `advance()` queues every deployment whose dependencies all
succeeded and cancels those behind a failure, so no worker ever waits for another.
"""

from functools import partial

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.audit import Actor, record

from . import bootstrap, gates, planning, retained
from .models import (
    ACTIVE,
    FINISHED,
    NOT_STARTED,
    Deployment,
    EventSource,
    Level,
    Rollout,
    RolloutKind,
    Status,
)
from .steps import create_deployments, synthesize
from .synth import SynthError
from .synth.templates import Templates  # noqa: F401 - stays importable: other sources build it


class Conflict(Exception):
    """Another rollout of the application is active."""

    def __init__(self, active_rollout_id: int | None):
        super().__init__("Another rollout of this application is already running"
                         + (f" (rollout {active_rollout_id})." if active_rollout_id else "."))
        self.active_rollout_id = active_rollout_id


class NotAllowed(Exception):
    """The rollout is not in a state that allows this."""


class Refused(NotAllowed):
    """The request cannot start a rollout as asked (its region or its label)."""


def _send(task: str, pk: int, countdown: float | None = None) -> None:
    """Queue a deployer task once the transaction commits (after `countdown` seconds)."""
    # By name: deployer.tasks imports this module, so importing the tasks here would be a cycle.
    transaction.on_commit(partial(current_app.send_task, f"deployer.tasks.{task}", args=(pk,),
                                  countdown=countdown))


def end(rollout: Rollout, status: str, explanation: str = "", **kwargs) -> bool:
    """End the rollout (Rollout.end); a worker then deletes the change sets it will never run."""
    if not rollout.end(status, explanation, **kwargs):
        return False
    if status == Status.SUCCEEDED and rollout.kind == RolloutKind.DEPLOY:
        _send("keep_assemblies", rollout.pk)  # for a later roll back
    if rollout.deployments.exclude(change_set_id="").exists():
        _send("discard_change_sets", rollout.pk)
    return True


def queue_again(d: Deployment) -> None:
    """Send a queued step's task again; the claim in the task makes a second delivery harmless."""
    _send("plan_deployment" if d.rollout.applied_at is None else "run_deployment", d.pk)


def follow_again(d: Deployment) -> None:
    """Have a worker follow a running step's stack to its end; nothing is executed again."""
    _send("follow_deployment", d.pk)


def active_rollout(application) -> Rollout | None:
    return application.rollouts.filter(status__in=ACTIVE).first()


MAX_LABEL = Rollout._meta.get_field("release_label").max_length


def clean_label(label: str) -> str:
    """A release label as stored: trimmed, printable, at most MAX_LABEL characters."""
    label = (label or "").strip()
    if len(label) > MAX_LABEL:
        raise Refused(f"A release label has at most {MAX_LABEL} characters.")
    if any(not ch.isprintable() for ch in label):
        raise Refused("A release label is one line of printable text.")
    return label


def start_rollout(application, user, kind: str = RolloutKind.PLAN,
                  actor: Actor | None = None, only_region: str = "", *, label: str = "",
                  require_approval: bool | None = None, rollback_of: Rollout | None = None,
                  ) -> Rollout:
    """Create a rollout and queue its plan. Raises Conflict when one is active, Refused when
    the region or the label cannot be used. `require_approval` None takes the application's
    default."""
    actor = actor or Actor(user)
    label = clean_label(label)
    if only_region and kind != RolloutKind.BOOTSTRAP:
        states = dict(application.regions.values_list("code", "state"))
        refusal = planning.only_region_refusal(only_region, application.main_region, states)
        if refusal:
            raise Refused(refusal)
    if require_approval is None:
        require_approval = application.require_approval
    existing = active_rollout(application)
    if existing is not None:
        raise Conflict(existing.pk)
    try:
        with transaction.atomic():
            rollout = Rollout.objects.create(
                application=application, kind=kind, status=Status.QUEUED,
                only_region=only_region, release_label=label, requested_via=actor.source,
                require_approval=require_approval and kind != RolloutKind.BOOTSTRAP,
                rollback_of=rollback_of,
                requested_by=user if getattr(user, "is_authenticated", False) else None,
            )
            # A newer plan makes older unapplied ones stale.
            stale = application.rollouts.filter(
                status__in=[Status.PLANNED, Status.AWAITING_CONFIRMATION]).exclude(pk=rollout.pk)
            for old in stale:
                end(old, Status.CANCELLED, f"Superseded by rollout {rollout.pk}.",
                    from_statuses=(old.status,))
            record(actor, f"rollout.{kind}", rollout, application=application,
                   after={"rollout": rollout.pk, "kind": kind, "region": only_region,
                          "label": label, "require_approval": rollout.require_approval,
                          "rollback_of": rollback_of.pk if rollback_of else None})
            _send("plan_rollout", rollout.pk)
    except IntegrityError:
        existing = active_rollout(application)
        raise Conflict(existing.pk if existing else None) from None
    return rollout


def start_plan(application, user, actor: Actor | None = None, region: str = "",
               **choices) -> Rollout:
    """Plan only: create every region's change set (or one region's) for review; nothing is
    executed. `choices`: label, require_approval."""
    return start_rollout(application, user, RolloutKind.PLAN, actor, region, **choices)


def pending_plan(application, region: str = "", label: str = "") -> Rollout | None:
    """A plan of the same region and label that waits for review and is still fresh enough
    to apply."""
    plan = application.rollouts.filter(
        status__in=[Status.PLANNED, Status.AWAITING_CONFIRMATION], only_region=region,
        release_label=clean_label(label), rollback_of=None).exclude(
        kind=RolloutKind.BOOTSTRAP).first()
    return None if plan is None or plan.plan_too_old else plan


def start_review(application, user, actor: Actor | None = None, region: str = "",
                 **choices) -> tuple[Rollout, bool]:
    """The web's Deploy: the plan waiting for review, or a new plan to review.

    Returns (rollout, new): a pending plan is shown, never silently replaced."""
    plan = pending_plan(application, region, choices.get("label", ""))
    if plan is not None:
        return plan, False
    return start_plan(application, user, actor, region, **choices), True


def start_deploy(application, user, actor: Actor | None = None, region: str = "",
                 **choices) -> Rollout:
    """Plan, then apply at once unless a stateful change waits for confirmation."""
    return start_rollout(application, user, RolloutKind.DEPLOY, actor, region, **choices)


def start_rollback(earlier: Rollout, user, actor: Actor | None = None) -> Rollout:
    """A new plan that applies the templates of an earlier succeeded deploy again, for review."""
    refusal = retained.refusal(earlier)
    if refusal:
        raise Refused(refusal)
    return start_rollout(earlier.application, user, RolloutKind.PLAN, actor,
                         earlier.only_region, label=earlier.release_label, rollback_of=earlier)


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
        if rollout.rollback_of_id:
            retained.reuse(rollout, deployments)
        else:
            synthesize(rollout, deployments)
    except Exception as exc:  # noqa: BLE001 - a synth failure of any kind ends the plan
        message = (f"Roll back refused: {exc}" if isinstance(exc, retained.RollbackError)
                   else f"Synth failed: {exc}")
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
    rollout = Rollout.objects.select_related("application").get(pk=rollout_id)
    if rollout.status != Status.RUNNING or rollout.applied_at is None:
        return
    deployments = list(rollout.deployments.select_related("region").prefetch_related(
        "depends_on"))
    by_id = {d.pk: d for d in deployments}
    ready: list[Deployment] = []
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
            elif all(p.status == Status.SUCCEEDED for p in parents) and d not in ready:
                ready.append(d)
    waiting = gates.hold(rollout, deployments, ready) if ready else None
    if waiting is not None:
        if waiting.recheck is not None:
            _send("check_gate", rollout.pk, countdown=waiting.recheck)
        return
    for d in ready:
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


def approve(rollout: Rollout, user, actor: Actor | None = None) -> Rollout:
    """Let a rollout that waits for approval after the main region go on to the others."""
    if Rollout.objects.filter(
            pk=rollout.pk, status=Status.RUNNING, require_approval=True, approved_at=None,
            cancel_requested_at=None).update(
            approved_at=timezone.now(),
            approved_by=user if getattr(user, "is_authenticated", False) else None) != 1:
        rollout.refresh_from_db()
        raise NotAllowed(f"Rollout {rollout.pk} is {rollout.status_label.lower()}; there is "
                         "nothing to approve.")
    record(actor or Actor(user), "rollout.approve", rollout, application=rollout.application)
    advance(rollout.pk)
    rollout.refresh_from_db()
    return rollout
