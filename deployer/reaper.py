"""The reaper: settles work whose worker was lost, by its heartbeat going stale.

The truth comes from CloudFormation: a change set still AVAILABLE never ran (error); a stack
still *_IN_PROGRESS is followed again by a follow-only task; a terminal stack status settles
the deployment; a missing stack is an error. A rollout whose planning worker was lost ends
in error."""

from django.conf import settings
from django.utils import timezone

from lib import aws

from . import rollouts, runs
from .cloudformation import Engine
from .models import ACTIVE, Deployment, Level, Rollout, Status


def reap(now=None) -> list[str]:
    """Settle deployments and rollouts whose worker stopped refreshing their heartbeat.
    Returns what it did."""
    now = now or timezone.now()
    cutoff = now - timezone.timedelta(seconds=settings.DEPLOY_HEARTBEAT_TIMEOUT)
    done: list[str] = []
    for d in Deployment.objects.filter(status=Status.RUNNING, heartbeat_at__lt=cutoff):
        # The heartbeat is the claim: two reapers never settle the same deployment.
        if Deployment.objects.filter(pk=d.pk, status=Status.RUNNING,
                                     heartbeat_at=d.heartbeat_at).update(heartbeat_at=now) != 1:
            continue
        d = Deployment.objects.select_related("rollout__application", "region").get(pk=d.pk)
        done.append(reap_one(d))
    for d in Deployment.objects.select_related("rollout").filter(
            status=Status.QUEUED, heartbeat_at__lt=cutoff):
        if Deployment.objects.filter(pk=d.pk, status=Status.QUEUED,
                                     heartbeat_at=d.heartbeat_at).update(heartbeat_at=now) == 1:
            rollouts.queue_again(d)
            done.append(f"deployment {d.pk}: queued again")
    synth_cutoff = cutoff - timezone.timedelta(seconds=settings.SYNTH_TIMEOUT)
    for rollout in Rollout.objects.filter(status=Status.RUNNING, heartbeat_at__lt=cutoff):
        never_sent = rollout.deployments.filter(status=Status.QUEUED, heartbeat_at=None)
        if (rollout.applied_at is None and rollout.heartbeat_at < synth_cutoff
                and never_sent.exists()):
            # The planning worker died during the synth: its steps were never sent anywhere.
            if rollouts.end(rollout, Status.ERROR,
                            "The worker stopped while synthesizing the templates."):
                done.append(f"rollout {rollout.pk}: error (worker lost while synthesizing)")
            continue
        if rollout.deployments.filter(status__in=ACTIVE).exists():
            continue
        if rollout.applied_at is None and not rollout.deployments.exists():
            if rollouts.end(rollout, Status.ERROR, "The worker stopped while planning."):
                done.append(f"rollout {rollout.pk}: error (worker lost while planning)")
        elif rollout.applied_at is None:
            rollouts.after_plan(rollout.pk)
        else:
            rollouts.advance(rollout.pk)
    return done


def reap_one(d: Deployment) -> str:
    """Settle one running deployment whose worker was lost; says what happened."""
    if d.rollout.applied_at is None:
        message = "The worker stopped while creating the change set."
        d.log(message, level=Level.ERROR)
        runs.finish_deployment(d, Status.ERROR, message)
        rollouts.after_plan(d.rollout_id)
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
        rollouts.follow_again(d)
        return f"deployment {d.pk}: following again"
    if verdict == "finished":
        engine.follow_once()
        runs.settle(d, outcome, "Settled from the stack status after its worker was lost.")
        rollouts.advance(d.rollout_id)
        return f"deployment {d.pk}: {d.status}"
    message = ("The worker was lost before the change set was executed; nothing was changed."
               if verdict == "not_executed" else
               f"The worker was lost and stack {d.stack_name} does not exist.")
    d.log(message, level=Level.ERROR)
    runs.finish_deployment(d, Status.ERROR, message)
    rollouts.advance(d.rollout_id)
    return f"deployment {d.pk}: error ({verdict})"
