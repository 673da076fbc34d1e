"""Plan, Deploy, Apply, Cancel and retry, in the order an operator clicks them, end with every
region deployed and nothing left behind: real Celery workers, real change sets, moto over HTTP."""

import pytest

from accounts.audit import Actor
from deployer import rollouts
from deployer.models import DeploymentEvent, Rollout, Status
from lib import aws as aws_door
from regions.models import RegionState
from regions.services import add_region
from tests.fixtures.moto import reset_moto

from .test_orchestration import (
    WORKER_ENV,
    in_inventory,
    wait_for,
    wait_for_executed,
    wait_for_status,
)
from .test_worker_faults import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REGIONS = ("us-east-1", "eu-west-1")


def stacks(region: str) -> list[dict]:
    """Every live stack in the region, as CloudFormation lists them."""
    return aws_door.client("cloudformation", region).describe_stacks()["Stacks"]


def change_sets_left(rollout: Rollout) -> list[str]:
    """The rollout's change sets that never ran and CloudFormation still lists."""
    left = []
    for d in rollout.deployments.exclude(change_set_id="").select_related("region"):
        cfn = aws_door.client("cloudformation", d.region.code)
        listed = cfn.list_change_sets(StackName=d.stack_name)["Summaries"]
        left += [f"{s['ChangeSetName']} ({s['ExecutionStatus']})" for s in listed
                 if s["ChangeSetId"] == d.change_set_id
                 and not s["ExecutionStatus"].startswith("EXECUTE")]
    return left


def review_stacks_left() -> list[str]:
    return [f"{s['StackName']} in {code}" for code in REGIONS for s in stacks(code)
            if s["StackStatus"] == "REVIEW_IN_PROGRESS"]


def assert_deployed_once_per_region():
    for code in REGIONS:
        # The sandbox app's regions also hold their bootstrap stack.
        live = [(s["StackName"], s["StackStatus"]) for s in stacks(code)
                if s["StackName"] != "CDKToolkit"]
        assert len(live) == 1, f"{code}: {live}"
        assert live[0][1] in ("CREATE_COMPLETE", "UPDATE_COMPLETE"), f"{code}: {live}"


def assert_left_nothing_behind(rollout: Rollout):
    try:
        wait_until(lambda: not change_sets_left(rollout), timeout=30)
    except AssertionError:
        raise AssertionError(f"rollout {rollout.pk} left {change_sets_left(rollout)}: "
                             f"{log_of(rollout)}") from None
    assert review_stacks_left() == []


def log_of(rollout: Rollout) -> list[str]:
    return list(DeploymentEvent.objects.filter(deployment__rollout=rollout)
                .values_list("message", flat=True))


@pytest.fixture
def new_application(application, operator):
    """An application nothing was ever deployed for: the main region and one more."""
    in_inventory(application, state=RegionState.PLANNED)
    add_region(application, "eu-west-1", Actor(operator))
    return application


def test_plan_then_deploy_on_a_new_application_deploys_every_region_once(
        aws, new_application, operator, celery_worker_factory):
    celery_worker_factory("deploys", **WORKER_ENV)
    plan = wait_for_status(rollouts.start_plan(new_application, operator), Status.PLANNED)

    rollout = wait_for(rollouts.start_deploy(new_application, operator))

    assert rollout.status == Status.SUCCEEDED, rollout.explanation
    assert [(d.region.code, d.status) for d in rollout.deployments.order_by("step")] == [
        ("us-east-1", Status.SUCCEEDED), ("us-east-1", Status.SUCCEEDED),
        ("eu-west-1", Status.SUCCEEDED)]
    assert_deployed_once_per_region()
    log = log_of(rollout)
    # The main stack is created once, then updated to add the replica.
    assert sum("(CREATE) for stack orders-us-east-1" in line for line in log) == 1
    assert sum("(UPDATE) for stack orders-us-east-1" in line for line in log) == 1
    assert not rollout.deployments.filter(events__level="error").exists()
    plan.refresh_from_db()
    assert (plan.status, plan.explanation) == (Status.CANCELLED,
                                               f"Superseded by rollout {rollout.pk}.")
    assert_left_nothing_behind(plan)
    new_application.refresh_from_db()
    assert set(new_application.regions.values_list("state", flat=True)) == {RegionState.ACTIVE}


def test_the_sandbox_app_planned_then_deployed_creates_its_table_once(
        aws, new_application, operator, celery_worker_factory):
    # As a new user tries it: the sandbox app (CDK synth), Plan, wait for Planned, Deploy.
    zone = aws_door.client("route53", "us-east-1").create_hosted_zone(
        Name="example.com", CallerReference="convergence-test")["HostedZone"]["Id"]
    new_application.__class__.objects.filter(pk=new_application.pk).update(
        source="sandbox", hosted_zone_id=zone.rsplit("/", 1)[-1])
    env = {k: v for k, v in WORKER_ENV.items() if k != "DEPLOYER_TEMPLATES"}
    # Sandbox mode: the plan bootstraps each region before it publishes the app's assets.
    celery_worker_factory("deploys", **{**env, "DEPLOY_FOLLOW_DELAY": "0", "SANDBOX": "1"})
    plan = wait_for_status(rollouts.start_plan(new_application, operator), Status.PLANNED,
                           timeout=300)

    rollout = wait_for(rollouts.start_deploy(new_application, operator), timeout=300)

    assert rollout.status == Status.SUCCEEDED, rollout.explanation
    assert_deployed_once_per_region()
    assert not any("already exists" in line for line in log_of(rollout))
    tables = aws_door.client("dynamodb", "us-east-1").list_tables()["TableNames"]
    assert tables == [new_application.table_name]
    assert_left_nothing_behind(plan)


def test_plan_deploy_plan_apply_cancel_deploy_ends_deployed_with_nothing_left_behind(
        aws, new_application, operator, celery_worker_factory):
    first = celery_worker_factory("deploys", **WORKER_ENV)
    superseded = wait_for_status(rollouts.start_plan(new_application, operator), Status.PLANNED)
    assert wait_for(rollouts.start_deploy(new_application, operator)).status == Status.SUCCEEDED
    assert_left_nothing_behind(superseded)
    # A new release of the app: the next plan has something to change in every region.
    first.stop()
    celery_worker_factory("deploys", DEPLOYER_TEST_RELEASE="2",
                          **{**WORKER_ENV, "DEPLOY_FOLLOW_DELAY": "3"})

    plan = wait_for_status(rollouts.start_plan(new_application, operator), Status.PLANNED)
    rollouts.apply(plan, operator)
    wait_for_executed(plan, "us-east-1")
    cancelled = wait_for(rollouts.cancel(plan, operator))

    assert cancelled.status == Status.CANCELLED
    never_ran = cancelled.deployments.get(region__code="eu-west-1")
    assert (never_ran.status, never_ran.executed_at) == (Status.CANCELLED, None)
    assert_left_nothing_behind(cancelled)
    assert never_ran.events.filter(
        message=f"Deleted change set {never_ran.change_set_name}, which never ran.").exists()

    rollout = wait_for(rollouts.start_deploy(new_application, operator))

    assert rollout.status == Status.SUCCEEDED, rollout.explanation
    by_region = {d.region.code: d for d in rollout.deployments.select_related("region")}
    assert by_region["us-east-1"].explanation == "No changes."
    assert by_region["eu-west-1"].explanation == "Stack UPDATE_COMPLETE."
    assert_deployed_once_per_region()
    ssm = aws_door.client("ssm", "eu-west-1")
    assert ssm.get_parameter(Name="/orders/eu-west-1/release")["Parameter"]["Value"] == "2"
    assert_left_nothing_behind(rollout)


def test_a_plan_applied_after_the_local_aws_restarted_says_so_and_a_deploy_recovers(
        aws, new_application, operator, celery_worker_factory):
    celery_worker_factory("deploys", **WORKER_ENV)
    plan = wait_for_status(rollouts.start_plan(new_application, operator), Status.PLANNED)
    reset_moto(aws)

    lost = wait_for(rollouts.apply(plan, operator))

    assert lost.status == Status.ERROR
    main = lost.deployments.get(step=0)
    assert main.explanation == (f"Change set {main.change_set_name} no longer exists (it was "
                                "deleted, or the local AWS started afresh); plan again.")
    rollout = wait_for(rollouts.start_deploy(new_application, operator))
    assert rollout.status == Status.SUCCEEDED, rollout.explanation
    assert_deployed_once_per_region()


def test_a_retry_after_a_region_failed_deploys_it(
        aws, new_application, operator, celery_worker_factory):
    broken = celery_worker_factory("deploys", DEPLOYER_TEST_FAILING_REGIONS="eu-west-1",
                                   **WORKER_ENV)
    failed = wait_for(rollouts.start_deploy(new_application, operator))
    assert failed.status == Status.FAILED
    broken.stop()
    celery_worker_factory("deploys", **WORKER_ENV)

    rollout = wait_for(rollouts.start_deploy(new_application, operator))

    assert rollout.status == Status.SUCCEEDED, rollout.explanation
    assert_deployed_once_per_region()
    assert_left_nothing_behind(failed)
