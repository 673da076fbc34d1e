"""Runs of one deployment: create its change set, execute and follow it, follow it again
after its worker was lost, settle it from the stack's terminal status, and keep its region's
lifecycle state and outputs in step; once a rollout has ended, delete the change sets it will
never run. A run queues nothing: when a step is done it asks deployer.rollouts to move the
rollout on.
"""

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils import timezone

from accounts.audit import Actor, record
from lib import aws, route53_budget
from regions.models import Region, RegionState
from regions.services import set_region_state
from traffic import routing as traffic_routing
from traffic.services import sync_after_deploy

from . import bootstrap, publishing, rollouts
from .cloudformation import FAILED_STATUSES, Engine, EngineError, Outcome
from .models import FINISHED, Action, Deployment, Level, Rollout, Status
from .outputs import HealthCheckNotFound, health_check_id

# Steps whose stack is the application's own in the region (not its bootstrap stack).
REGION_STACKS = (Action.UPDATE_MAIN, Action.DEPLOY_REGION)


def plan_deployment(deployment_id: int, task_id: str = "") -> None:
    """Create one region's change set."""
    if not Deployment.claim(deployment_id, task_id):
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
            prepare_drain_alarm(d)
            request = change_set_request(engine)
            changed = engine.create_change_set(request.template, **request.options)
            status = Status.PLANNED
            explanation = "" if changed else "No changes."
    except (EngineError, aws.AwsError) as exc:
        d.log(str(exc), level=Level.ERROR)
        status, explanation = Status.ERROR, str(exc)
    Deployment.objects.filter(pk=d.pk, status=Status.RUNNING).update(
        status=status, explanation=explanation,
        finished_at=timezone.now() if status == Status.ERROR else None)
    rollouts.after_plan(d.rollout_id)


def prepare_drain_alarm(d: Deployment) -> None:
    """The drain alarm the region's routing check watches exists before the check does."""
    if d.action not in REGION_STACKS:
        return
    try:
        traffic_routing.ensure_alarm(d.rollout.application, d.region.code)
    except aws.AwsError as exc:
        d.log(f"Could not create the drain alarm of {d.region.code}: {exc} Draining the region "
              "through the data plane will not work until it exists.", level=Level.WARNING)


def _bump(*deployment_ids: int) -> None:
    Deployment.objects.filter(pk__in=deployment_ids).update(heartbeat_at=timezone.now())


def change_set_request(engine) -> publishing.Request:
    """What the step's change set is made from, its assets published. In the sandbox a region
    that is not bootstrapped is bootstrapped first, by a bootstrap step of the same rollout."""
    try:
        return publishing.request_for(engine)
    except bootstrap.NotBootstrapped as exc:
        if not settings.SANDBOX or not exc.standard:
            raise
        bootstrap_first(engine.d, exc)
        return publishing.request_for(engine)


def bootstrap_first(d: Deployment, why: bootstrap.NotBootstrapped) -> None:
    """Sandbox only: bootstrap the step's region now, as a step of its rollout."""
    b = bootstrap.create_step(d.rollout, d.region)
    d.log(f"{why.region} is not bootstrapped (found "
          f"{'none' if why.found is None else why.found}, the stack needs {why.required}); the "
          f"sandbox bootstraps it first (step {b.step}).", level=Level.WARNING)
    if not Deployment.claim(b.pk, d.task_id):
        raise EngineError(f"The bootstrap step {b.step} of {why.region} was taken by another "
                          "worker; plan again.", retryable=True)
    b = Deployment.objects.select_related("rollout__application", "region").get(pk=b.pk)
    _run(b, heartbeat=lambda: _bump(b.pk, d.pk))
    b.refresh_from_db()
    if b.status != Status.SUCCEEDED:
        raise EngineError(f"Bootstrapping {why.region} failed (step {b.step}): {b.explanation}")


def _cancel_requested(rollout_id: int) -> bool:
    return Rollout.objects.filter(pk=rollout_id, cancel_requested_at__isnull=False).exists()


def run_deployment(deployment_id: int, task_id: str = "") -> None:
    """Execute one step: its reviewed change set (or the stack's deletion), then follow it."""
    if not Deployment.claim(deployment_id, task_id):
        return
    d = Deployment.objects.select_related("rollout__application", "region").get(pk=deployment_id)
    try:
        _run(d)
    finally:
        rollouts.advance(d.rollout_id)


def _run(d: Deployment, heartbeat=None) -> None:
    rollout = d.rollout
    engine = Engine(d, heartbeat=heartbeat or (lambda: _bump(d.pk)),
                    should_cancel=lambda: _cancel_requested(rollout.pk))
    region_starting(d)
    try:
        if d.action == Action.DESTROY_REGION:
            engine.delete()
            outcome = engine.follow(deleting=True)
        else:
            if not d.change_set_id:
                prepare_drain_alarm(d)
                request = change_set_request(engine)
                changed = engine.create_change_set(request.template, **request.options)
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
                succeed(d, "No changes.")
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
        message = stopped(exc, d.executed_at is not None)
        d.log(message, level=Level.ERROR)
        finish_deployment(d, Status.ERROR, message)
        raise


def stopped(exc: Exception, executed: bool) -> str:
    """Why a step stopped on an exception the engine does not raise, as a sentence."""
    if isinstance(exc, SoftTimeLimitExceeded):
        why = (f"Stopped: the step ran longer than DEPLOY_SOFT_TIME_LIMIT "
               f"({settings.DEPLOY_SOFT_TIME_LIMIT} s).")
    else:
        why = (f"Stopped by an unexpected error in the control plane ({type(exc).__name__}: "
               f"{exc}); the worker's log has the details.")
    return why + (" The stack may still be changing; the reaper settles it." if executed else "")


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
        rollouts.advance(d.rollout_id)


def discard_change_sets(rollout_id: int) -> None:
    """Delete the change sets an ended rollout will never run, and the empty stacks they made."""
    rollout = Rollout.objects.get(pk=rollout_id)
    if not rollout.is_finished:
        return
    for d in rollout.deployments.select_related("rollout__application", "region").exclude(
            change_set_id="").filter(status__in=FINISHED):
        try:
            Engine(d).discard_change_set()
        except (EngineError, aws.AwsError) as exc:
            d.log(f"Could not delete change set {d.change_set_name}: {exc}", level=Level.WARNING)


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
        succeed(d, " ".join(p for p in [note, f"Stack {status}." if status else ""] if p))
    else:
        reason = outcome.reason or f"The stack ended in {status or 'an unknown state'}."
        final = Status.CANCELLED if cancelled else Status.FAILED
        finish_deployment(d, final, " ".join(p for p in [note, f"{status}: {reason}"] if p))


def succeed(d: Deployment, explanation: str) -> None:
    """Finish a step whose stack is deployed, with its region's health check: the
    HealthCheckId output, or the one among the stack's resources. An app whose stack has none
    to watch breaks the contract: the step fails saying so."""
    found = ""
    if d.action in REGION_STACKS:
        try:
            found = health_check_id(d.rollout.application, d.region.code, d.stack_name,
                                    d.outputs or {}, d.template)
        except HealthCheckNotFound as exc:
            finish_deployment(d, Status.FAILED, f"{explanation} Contract error: {exc}".strip())
            return
        except aws.AwsError as exc:
            d.log(f"Could not look for the stack's health check: {exc}", level=Level.WARNING)
        keep_traffic(d, found or (d.outputs or {}).get("HealthCheckId", ""))
    finish_deployment(d, Status.SUCCEEDED, explanation, health_check=found)


def keep_traffic(d: Deployment, endpoint: str) -> None:
    """A deploy never undoes a drain: the routing check says what the inventory says."""
    try:
        note = sync_after_deploy(d.rollout.application, d.region.code, d.outputs or {}, endpoint)
    except (aws.AwsError, route53_budget.Route53Busy) as exc:
        d.log(f"Could not check the routing health check's threshold: {exc}",
              level=Level.WARNING)
        return
    if note:
        d.log(note)


def finish_deployment(d: Deployment, status: str, explanation: str,
                      health_check: str = "") -> None:
    """End a running step, log it and update its region, unless another caller ended it."""
    if not d.end(status, explanation):
        return
    d.log(f"Deployment {status}: {explanation}" if explanation else f"Deployment {status}.",
          level=Level.INFO if status == Status.SUCCEEDED else Level.ERROR)
    region_finished(d, health_check)


def _system() -> Actor:
    return Actor(None, "system")


def region_starting(d: Deployment) -> None:
    region = Region.objects.get(pk=d.region_id)
    if d.action in REGION_STACKS and region.state in (RegionState.PLANNED, RegionState.FAILED):
        set_region_state(region, RegionState.PROVISIONING, _system())


def region_finished(d: Deployment, health_check: str = "") -> None:
    if d.action == Action.BOOTSTRAP:
        return  # the region's bootstrap stack: nothing of the region's own changes
    region = Region.objects.select_related("application").get(pk=d.region_id)
    outputs = d.outputs or {}
    fields = {}
    if outputs or health_check:
        fields = {
            "outputs": outputs,
            "health_check_id": (health_check or outputs.get("HealthCheckId",
                                                            region.health_check_id))[:64],
            "api_url": outputs.get("ApiUrl", region.api_url)[:2048],
            "rest_api_id": outputs.get("RestApiId", region.rest_api_id)[:64],
        }
    if d.action == Action.DESTROY_REGION:
        if d.status == Status.SUCCEEDED and region.state == RegionState.REMOVING:
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
