"""Rollouts run by a real Celery worker on real Redis against a real moto server."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from accounts.audit import Actor
from deployer import rollouts
from deployer.models import Deployment, Rollout, Status
from lib import aws
from regions.models import RegionState
from regions.services import add_region, remove_region

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WORKER_ENV = {
    "DEPLOYER_TEMPLATES": "tests.deployer.conftest.templates",
    "DEPLOY_POLL_INTERVAL": "0.1",
    # moto finishes a stack at once; each deployment follows its stack this long instead.
    "DEPLOY_FOLLOW_DELAY": "1.5",
}


def wait_for(rollout: Rollout, timeout: float = 120) -> Rollout:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rollout.refresh_from_db()
        if rollout.is_finished:
            return rollout
        time.sleep(0.2)
    raise AssertionError(f"rollout {rollout.pk} still {rollout.status}: "
                         f"{list(rollout.deployments.values_list('step', 'status'))}")


def in_inventory(application, *codes, state=RegionState.ACTIVE):
    for code in codes:
        add_region(application, code, Actor(None, "cli"))
    application.regions.update(state=state)


def steps(rollout):
    return list(rollout.deployments.select_related("region").order_by("step"))


def test_the_main_region_deploys_alone_then_the_others_run_in_parallel(
        aws, application, operator, celery_worker_factory):
    in_inventory(application, "eu-west-1", "ap-southeast-2", "us-west-2")
    celery_worker_factory("deploys", **WORKER_ENV)

    rollout = wait_for(rollouts.start_deploy(application, operator))

    assert rollout.status == Status.SUCCEEDED, rollout.explanation
    main, *others = steps(rollout)
    assert (main.action, main.region.code) == ("update_main", "us-east-1")
    assert sorted(d.region.code for d in others) == ["ap-southeast-2", "eu-west-1", "us-west-2"]
    assert all(d.status == Status.SUCCEEDED for d in others)
    # Nothing else starts before the main region has finished...
    assert all(d.started_at >= main.finished_at for d in others)
    assert main.events.filter(source="synth", message__contains="test synth of orders").exists()
    # ...and the others overlap: each starts before any of them has finished.
    assert max(d.started_at for d in others) < min(d.finished_at for d in others)
    for d in others:
        assert d.region.health_check_id == d.outputs["HealthCheckId"] != ""
        assert d.events.filter(source="cloudformation", status="CREATE_COMPLETE").exists()


def test_adding_two_regions_adds_one_replica_per_main_stack_update(
        aws, application, operator, celery_worker_factory):
    in_inventory(application)
    add_region(application, "eu-west-1", Actor(operator))
    add_region(application, "ap-southeast-2", Actor(operator))
    celery_worker_factory("deploys", **WORKER_ENV)

    rollout = wait_for(rollouts.start_deploy(application, operator))

    assert rollout.status == Status.SUCCEEDED, rollout.explanation
    done = steps(rollout)
    assert [(d.action, d.region.code, d.replicas) for d in done] == [
        ("update_main", "us-east-1", ["ap-southeast-2"]),
        ("deploy_region", "ap-southeast-2", ["ap-southeast-2"]),
        ("update_main", "us-east-1", ["ap-southeast-2", "eu-west-1"]),
        ("deploy_region", "eu-west-1", ["ap-southeast-2", "eu-west-1"]),
    ]
    for before, after in zip(done, done[1:], strict=False):
        assert after.started_at >= before.finished_at
    assert all(d.status == Status.SUCCEEDED for d in done)
    ssm = aws_client("ssm", "us-east-1")
    assert ssm.get_parameter(Name="/orders/replicas")["Parameter"]["Value"] == (
        "ap-southeast-2,eu-west-1")
    states = dict(application.regions.values_list("code", "state"))
    assert states == {"us-east-1": "active", "eu-west-1": "active", "ap-southeast-2": "active"}


def aws_client(service, region):
    return aws.client(service, region)


def test_a_failed_region_leaves_the_others_intact(
        aws, application, operator, celery_worker_factory):
    in_inventory(application, "eu-west-1", "ap-northeast-1")
    celery_worker_factory("deploys", DEPLOYER_TEST_FAILING_REGIONS="eu-west-1", **WORKER_ENV)

    rollout = wait_for(rollouts.start_deploy(application, operator))

    assert rollout.status == Status.FAILED
    by_region = {d.region.code: d for d in steps(rollout)}
    assert by_region["us-east-1"].status == Status.SUCCEEDED
    assert by_region["ap-northeast-1"].status == Status.SUCCEEDED
    assert by_region["eu-west-1"].status == Status.FAILED
    assert "Invalid Rest API Id" in by_region["eu-west-1"].explanation
    assert "eu-west-1" in rollout.explanation
    cfn = aws_client("cloudformation", "ap-northeast-1")
    stack = cfn.describe_stacks(StackName="orders-ap-northeast-1")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"


def test_a_failed_main_region_stops_the_regions_that_depend_on_it(
        aws, application, operator, celery_worker_factory):
    in_inventory(application, "eu-west-1", "ap-northeast-1")
    celery_worker_factory("deploys", DEPLOYER_TEST_FAILING_REGIONS="us-east-1", **WORKER_ENV)

    rollout = wait_for(rollouts.start_deploy(application, operator))

    assert rollout.status == Status.FAILED
    main, *others = steps(rollout)
    assert main.status == Status.FAILED
    assert [d.status for d in others] == [Status.CANCELLED, Status.CANCELLED]
    assert all("Not run: step 0 (us-east-1) failed" in d.explanation for d in others)
    assert all(d.executed_at is None for d in others)
    cfn = aws_client("cloudformation", "eu-west-1")
    # Its change set was created when the rollout was planned; it will never run, so it is
    # deleted with the empty stack it made.
    never_ran = [d for d in others if d.region.code == "eu-west-1"][0]
    deadline = time.monotonic() + 30
    while cfn.describe_stacks()["Stacks"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert cfn.describe_stacks()["Stacks"] == []
    assert never_ran.events.filter(
        message=f"Deleted change set {never_ran.change_set_name}, which never ran.").exists()


def test_twenty_concurrent_deploys_start_exactly_one_rollout(
        aws, application, operator, celery_worker_factory):
    in_inventory(application, "eu-west-1")
    celery_worker_factory("deploys", **WORKER_ENV)
    started, conflicts, errors = [], [], []
    barrier = threading.Barrier(20)

    def request():
        try:
            barrier.wait()
            started.append(rollouts.start_deploy(application, operator).pk)
        except rollouts.Conflict as exc:
            conflicts.append(exc.active_rollout_id)
        except Exception as exc:  # noqa: BLE001 - any other outcome fails the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(started) == 1
    assert len(conflicts) == 19
    assert Rollout.objects.filter(application=application).count() == 1
    assert {c for c in conflicts if c is not None} <= set(started)
    rollout = wait_for(Rollout.objects.get(pk=started[0]))
    assert rollout.status == Status.SUCCEEDED, rollout.explanation


def test_a_plan_waits_for_apply_and_then_runs_the_reviewed_change_sets(
        aws, application, operator, celery_worker_factory):
    in_inventory(application, "eu-west-1")
    celery_worker_factory("deploys", **WORKER_ENV)

    plan = wait_for_status(rollouts.start_plan(application, operator), Status.PLANNED)
    reviewed = {d.pk: d.change_set_id for d in plan.deployments.all()}
    assert all(reviewed.values())
    assert not aws_client("cloudformation", "eu-west-1").describe_stacks(
        StackName="orders-eu-west-1")["Stacks"][0]["StackStatus"].endswith("COMPLETE")

    rollout = wait_for(rollouts.apply(plan, operator))

    assert rollout.status == Status.SUCCEEDED, rollout.explanation
    assert {d.pk: d.change_set_id for d in rollout.deployments.all()} == reviewed
    for d in rollout.deployments.select_related("region"):
        cfn = aws_client("cloudformation", d.region.code)
        described = cfn.describe_change_set(ChangeSetName=d.change_set_id)
        assert described["ExecutionStatus"] == "EXECUTE_COMPLETE"


def test_a_second_deploy_while_one_is_active_names_the_active_rollout(
        aws, application, operator, celery_worker_factory):
    in_inventory(application)
    first = rollouts.start_deploy(application, operator)

    with pytest.raises(rollouts.Conflict) as conflict:
        rollouts.start_deploy(application, operator)

    assert conflict.value.active_rollout_id == first.pk
    celery_worker_factory("deploys", **WORKER_ENV)
    assert wait_for(first).status == Status.SUCCEEDED


def wait_for_status(rollout, status, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rollout.refresh_from_db()
        if rollout.status == status:
            return rollout
        if rollout.is_finished:
            break
        time.sleep(0.2)
    raise AssertionError(f"rollout {rollout.pk} is {rollout.status}, not {status}: "
                         f"{rollout.explanation} "
                         f"{list(Deployment.objects.filter(rollout=rollout).values_list('status', 'explanation'))}")


def test_the_deploy_command_prints_the_log_and_fails_when_a_region_fails(
        aws, application, celery_worker_factory, capsys):
    in_inventory(application, "eu-west-1")
    celery_worker_factory("deploys", DEPLOYER_TEST_FAILING_REGIONS="eu-west-1", **WORKER_ENV)

    with pytest.raises(CommandError, match="ended failed"):
        call_command("deploy", "orders", "--wait", "--poll", "0.2")

    out = capsys.readouterr().out
    assert "[us-east-1]" in out and "cloudformation: CREATE_COMPLETE" in out
    assert "[eu-west-1]" in out and "Invalid Rest API Id" in out


def test_the_deploy_command_can_plan_one_region_only(
        aws, application, celery_worker_factory, capsys):
    in_inventory(application, "eu-west-1")
    celery_worker_factory("deploys", **WORKER_ENV)

    call_command("deploy", "orders", "--region", "eu-west-1", "--plan-only", "--wait",
                 "--poll", "0.2")

    rollout = Rollout.objects.get()
    assert rollout.status == Status.PLANNED
    assert [d.region.code for d in steps(rollout)] == ["eu-west-1"]
    assert f"Rollout {rollout.pk} planned." in capsys.readouterr().out


def test_removing_a_region_takes_its_stack_down_before_the_replica_after_confirmation(
        aws, application, operator, celery_worker_factory):
    in_inventory(application, state=RegionState.PLANNED)
    add_region(application, "eu-west-1", Actor(operator))
    celery_worker_factory("deploys", **WORKER_ENV)
    assert wait_for(rollouts.start_deploy(application, operator)).status == Status.SUCCEEDED
    remove_region(application, "eu-west-1", Actor(operator))

    plan = wait_for_status(rollouts.start_deploy(application, operator), Status.AWAITING_CONFIRMATION)
    rollout = wait_for(rollouts.confirm(plan, operator))

    assert rollout.status == Status.SUCCEEDED, rollout.explanation
    assert [(d.action, d.region.code, d.replicas) for d in steps(rollout)] == [
        ("destroy_region", "eu-west-1", ["eu-west-1"]),
        ("update_main", "us-east-1", []),
    ]
    destroy, update = steps(rollout)
    assert update.started_at >= destroy.finished_at
    assert application.regions.get(code="eu-west-1").state == RegionState.REMOVED
    cfn = aws_client("cloudformation", "eu-west-1")
    assert cfn.describe_stacks()["Stacks"] == []
    ssm = aws_client("ssm", "us-east-1")
    assert ssm.get_parameter(Name="/orders/replicas")["Parameter"]["Value"] == "none"


def test_a_rollout_refuses_to_remove_the_last_region_in_service(
        aws, application, operator, celery_worker_factory):
    in_inventory(application, state=RegionState.REMOVING)
    celery_worker_factory("deploys", **WORKER_ENV)

    rollout = wait_for(rollouts.start_deploy(application, operator))

    assert rollout.status == Status.ERROR
    assert "last region in service" in rollout.explanation
    assert not rollout.deployments.exists()


def test_cancel_lets_the_running_step_finish_truthfully_and_stops_the_rest(
        aws, application, operator, celery_worker_factory):
    in_inventory(application, "eu-west-1", "ap-northeast-1")
    celery_worker_factory("deploys", **{**WORKER_ENV, "DEPLOY_FOLLOW_DELAY": "3"})
    rollout = rollouts.start_deploy(application, operator)
    main = wait_for_executed(rollout, "us-east-1")

    rollouts.cancel(rollout, operator)

    rollout = wait_for(rollout)
    assert rollout.status == Status.CANCELLED
    main.refresh_from_db()
    # moto finishes at once, so there was nothing left to cancel: the step says it ran.
    assert main.status == Status.SUCCEEDED
    assert main.events.filter(message__contains="Cancel requested").exists()
    others = [d for d in steps(rollout) if d.pk != main.pk]
    assert [d.status for d in others] == [Status.CANCELLED, Status.CANCELLED]
    assert all(d.executed_at is None for d in others)


def wait_for_executed(rollout, code, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        d = rollout.deployments.filter(region__code=code, executed_at__isnull=False).first()
        if d is not None:
            return d
        time.sleep(0.1)
    raise AssertionError(f"{code} was not executed")


def test_the_sandbox_app_is_synthesized_once_and_deployed_to_every_region(
        aws, application, operator, celery_worker_factory):
    zone = aws_client("route53", "us-east-1").create_hosted_zone(
        Name="example.com", CallerReference="orchestration-test")["HostedZone"]["Id"]
    application.__class__.objects.filter(pk=application.pk).update(
        source="sandbox", hosted_zone_id=zone.rsplit("/", 1)[-1])
    add_region(application, "eu-west-1", Actor(operator))
    env = {k: v for k, v in WORKER_ENV.items() if k != "DEPLOYER_TEMPLATES"}
    # Sandbox mode: the plan bootstraps each region before it publishes the app's assets.
    celery_worker_factory("deploys", **{**env, "DEPLOY_FOLLOW_DELAY": "0", "SANDBOX": "1"})

    rollout = wait_for(rollouts.start_deploy(application, operator), timeout=300)

    assert rollout.status == Status.SUCCEEDED, rollout.explanation
    assert rollout.synth_key
    assert [(d.action, d.region.code) for d in steps(rollout) if d.action != "bootstrap"] == [
        ("update_main", "us-east-1"), ("update_main", "us-east-1"),
        ("deploy_region", "eu-west-1")]
    assert sorted(d.region.code for d in steps(rollout) if d.action == "bootstrap") == [
        "eu-west-1", "us-east-1"]
    for region in application.regions.all():
        assert region.state == RegionState.ACTIVE
        assert region.health_check_id
    records = aws_client("route53", "us-east-1").list_resource_record_sets(
        HostedZoneId=zone)["ResourceRecordSets"]
    assert {r.get("Region") for r in records if r.get("SetIdentifier")} == {
        "us-east-1", "eu-west-1"}


def test_the_database_allows_one_active_deployment_per_region(application):
    rollout = Rollout.objects.create(application=application, status=Status.RUNNING)
    region = application.regions.get()
    Deployment.objects.create(rollout=rollout, region=region, step=0, action="update_main",
                              stack_name="s", status=Status.RUNNING)

    second = Deployment(rollout=rollout, region=region, step=1, action="update_main",
                        stack_name="s", status=Status.QUEUED)

    with pytest.raises(ValidationError, match="Another deployment to this region"):
        second.validate_constraints()
    with pytest.raises(IntegrityError), transaction.atomic():
        second.save()
    Deployment.objects.create(rollout=rollout, region=region, step=1, action="update_main",
                              stack_name="s", status=Status.PLANNED)


def test_the_database_allows_one_active_rollout_per_application(application):
    Rollout.objects.create(application=application, status=Status.QUEUED)
    Rollout.objects.create(application=application, status=Status.SUCCEEDED)

    with pytest.raises(IntegrityError), transaction.atomic():
        Rollout.objects.create(application=application, status=Status.RUNNING)


def test_a_cancel_while_planning_ends_the_rollout_cancelled(
        aws, application, operator, celery_worker_factory):
    in_inventory(application, "eu-west-1")
    rollout = rollouts.start_plan(application, operator)
    rollouts.cancel(rollout, operator)
    celery_worker_factory("deploys", **WORKER_ENV)

    rollout = wait_for(rollout)

    assert rollout.status == Status.CANCELLED
    assert not rollout.deployments.exists()
