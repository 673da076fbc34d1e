"""Celery tasks: thin. Each loads by id and calls deployer.rollouts, runs or reaper, which
claim their row first.

A whole deploy is never retried blindly: the claim (a filtered update from queued) makes a
second delivery of the same message return at once, and the reaper settles lost work from
CloudFormation's own stack status."""

from celery import shared_task
from django.conf import settings

from . import reaper, retained, rollouts, runs
from .models import Rollout

LONG = {
    "bind": True,
    "acks_late": True,
    "soft_time_limit": settings.DEPLOY_SOFT_TIME_LIMIT,
    "time_limit": settings.DEPLOY_TIME_LIMIT,
}


@shared_task(**LONG)
def plan_rollout(self, rollout_id: int) -> None:
    rollouts.plan_rollout(rollout_id, task_id=self.request.id or "")


@shared_task(**LONG)
def plan_deployment(self, deployment_id: int) -> None:
    runs.plan_deployment(deployment_id, task_id=self.request.id or "")


@shared_task(**LONG)
def run_deployment(self, deployment_id: int) -> None:
    runs.run_deployment(deployment_id, task_id=self.request.id or "")


@shared_task(**LONG)
def follow_deployment(self, deployment_id: int) -> None:
    runs.follow_deployment(deployment_id, task_id=self.request.id or "")


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def check_gate(rollout_id: int) -> None:
    """Look at a rollout's bake again (sent with a countdown: no worker waits)."""
    rollouts.advance(rollout_id)


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def keep_assemblies(rollout_id: int) -> list[str]:
    """Keep a succeeded deploy's cloud assemblies for a later roll back."""
    return retained.keep(Rollout.objects.select_related("application").get(pk=rollout_id))


@shared_task(**LONG)
def discard_change_sets(self, rollout_id: int) -> None:
    runs.discard_change_sets(rollout_id)


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def reap_deployments() -> list[str]:
    return reaper.reap()
