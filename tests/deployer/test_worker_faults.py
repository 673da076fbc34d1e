"""A worker killed in the middle of a deploy: the reaper settles it from CloudFormation."""

import time

import pytest
from django.utils import timezone

from deployer import rollouts, tasks
from deployer.models import Deployment, Status
from lib import aws as aws_door
from regions.models import RegionState

from .test_orchestration import WORKER_ENV, in_inventory, wait_for, wait_for_status

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REAPER_ENV = {**WORKER_ENV, "DEPLOY_FOLLOW_DELAY": "0", "DEPLOY_HEARTBEAT_TIMEOUT": "2"}


def executions(stack_name: str, region: str = "us-east-1") -> int:
    """Change set executions on the stack, counted from CloudFormation's own events."""
    events = aws_door.client("cloudformation", region).describe_stack_events(StackName=stack_name)
    return sum(
        1 for e in events["StackEvents"]
        if e["ResourceType"] == "AWS::CloudFormation::Stack"
        and e["ResourceStatus"] in ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS")
    )


def wait_until(predicate, timeout=60, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def stale(deployment: Deployment, seconds: float = 2.5) -> bool:
    deployment.refresh_from_db()
    return (timezone.now() - deployment.heartbeat_at).total_seconds() > seconds


def test_a_killed_worker_is_settled_from_the_stack_and_nothing_executes_twice(
        aws, application, operator, celery_worker_factory):
    in_inventory(application)
    # The first worker keeps following its stack long after moto has finished it.
    doomed = celery_worker_factory("deploys", **{**WORKER_ENV, "DEPLOY_FOLLOW_DELAY": "120"})
    rollout = rollouts.start_deploy(application, operator)
    d = wait_until(
        lambda: Deployment.objects.filter(rollout=rollout, status=Status.RUNNING,
                                          executed_at__isnull=False).first(),
        what="the change set to be executed")

    doomed.kill()
    wait_until(lambda: stale(d), what="the heartbeat to go stale")
    d.refresh_from_db()
    assert d.status == Status.RUNNING
    celery_worker_factory("deploys", **REAPER_ENV)
    report = tasks.reap_deployments.delay().get(timeout=60)

    assert f"deployment {d.pk}: succeeded" in report
    d.refresh_from_db()
    assert d.status == Status.SUCCEEDED
    assert "Settled from the stack status" in d.explanation
    assert d.outputs["HealthCheckId"]
    assert wait_for(rollout).status == Status.SUCCEEDED
    assert application.regions.get(code="us-east-1").state == RegionState.ACTIVE
    assert executions("orders-us-east-1") == 1
    # A second delivery of the lost message finds the deployment claimed and does nothing.
    tasks.run_deployment.delay(d.pk).get(timeout=30)
    assert executions("orders-us-east-1") == 1
    d.refresh_from_db()
    assert d.status == Status.SUCCEEDED


def test_a_worker_lost_before_executing_changes_nothing_and_its_change_set_is_deleted(
        aws, application, operator, celery_worker_factory):
    in_inventory(application)
    celery_worker_factory("deploys", **REAPER_ENV)
    plan = wait_for_status(rollouts.start_plan(application, operator), Status.PLANNED)
    d = plan.deployments.get()
    # As if a worker had claimed the step for execution and died before sending it.
    long_ago = timezone.now() - timezone.timedelta(minutes=10)
    Deployment.objects.filter(pk=d.pk).update(status=Status.RUNNING, heartbeat_at=long_ago)
    plan.__class__.objects.filter(pk=plan.pk).update(
        status=Status.RUNNING, applied_at=long_ago)

    report = tasks.reap_deployments.delay().get(timeout=60)

    assert f"deployment {d.pk}: error (not_executed)" in report
    d.refresh_from_db()
    assert d.status == Status.ERROR
    assert "nothing was changed" in d.explanation
    assert wait_for(plan).status == Status.ERROR
    # The rollout ended without running it: the change set and its empty stack are deleted.
    wait_until(lambda: d.events.filter(message__startswith="Deleted stack").exists(),
               what="the change set and its empty stack to be deleted")
    assert d.events.filter(
        message=f"Deleted change set {d.change_set_name}, which never ran.").exists()
    cfn = aws_door.client("cloudformation", "us-east-1")
    assert cfn.describe_stacks()["Stacks"] == []


def test_a_deployment_with_a_fresh_heartbeat_is_left_alone(
        aws, application, operator, celery_worker_factory):
    in_inventory(application)
    celery_worker_factory("deploys", **REAPER_ENV)
    plan = wait_for_status(rollouts.start_plan(application, operator), Status.PLANNED)
    d = plan.deployments.get()
    Deployment.objects.filter(pk=d.pk).update(status=Status.RUNNING, heartbeat_at=timezone.now())

    report = tasks.reap_deployments.delay().get(timeout=60)

    assert not any(line.startswith(f"deployment {d.pk}:") for line in report)
    d.refresh_from_db()
    assert d.status == Status.RUNNING
