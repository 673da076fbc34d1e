"""The CDK bootstrap of a region through the change-set engine, against a moto server; and the
bootstrap a plan checks (or, in the sandbox, makes) before it publishes anything."""

import time

import pytest
from django.core.management import CommandError, call_command

from accounts.models import AuditEntry
from deployer import bootstrap, rollouts, runs, toolkit
from deployer.bootstrap import TOOLKIT_STACK, VERSION_PARAMETER, region_status, template_version
from deployer.models import Deployment, Rollout, Status
from lib.aws import client
from regions.models import RegionState
from tests.deployer.conftest import use_app

BUCKET = "cdk-hnb659fds-assets-123456789012-{}"


@pytest.fixture(autouse=True)
def cache_dir(synth_cache):
    return synth_cache


@pytest.fixture(scope="module", autouse=True)
def toolkit_installed():
    toolkit.install(quiet=True)  # nothing to do when `make` installed it


def drive(rollout: Rollout) -> Rollout:
    """Do what the deploys worker does, in this process: plan, then run what is queued."""
    rollouts.plan_rollout(rollout.pk)
    for d in rollout.deployments.filter(status=Status.QUEUED):
        runs.plan_deployment(d.pk)
    rollout.refresh_from_db()
    while (queued := rollout.deployments.filter(status=Status.QUEUED).first()) is not None:
        runs.run_deployment(queued.pk)
    rollout.refresh_from_db()
    return rollout


def version(region: str) -> str:
    return client("ssm", region).get_parameter(Name=VERSION_PARAMETER)["Parameter"]["Value"]


def test_the_toolkit_template_is_the_pinned_cdk_packages_own():
    template = bootstrap.toolkit_template()
    assert template_version() >= 30
    assert template["Resources"]["CdkBootstrapVersion"]["Type"] == "AWS::SSM::Parameter"
    assert {"TrustedAccounts", "CloudFormationExecutionPolicies", "Qualifier"} <= set(
        template["Parameters"])


def test_bootstrapping_a_region_deploys_the_toolkit_stack_with_its_change_set(
        aws, three_regions, operator):
    rollout = drive(rollouts.start_bootstrap(three_regions, operator, region="eu-west-1"))

    assert (rollout.status, rollout.kind) == (Status.SUCCEEDED, "bootstrap"), rollout.explanation
    [step] = rollout.deployments.all()
    assert (step.action, step.stack_name, step.region.code) == ("bootstrap", TOOLKIT_STACK,
                                                                "eu-west-1")
    added = {c["logical_id"] for c in step.changes if c["action"] == "Add"}
    assert {"StagingBucket", "FilePublishingRole", "DeploymentActionRole",
            "CloudFormationExecutionRole", "CdkBootstrapVersion"} <= added
    assert not step.stateful_changes
    assert version("eu-west-1") == str(template_version())
    assert BUCKET.format("eu-west-1") in {
        b["Name"] for b in client("s3", "eu-west-1").list_buckets()["Buckets"]}
    roles = {r["RoleName"] for r in client("iam", "us-east-1").list_roles()["Roles"]}
    assert "cdk-hnb659fds-cfn-exec-role-123456789012-eu-west-1" in roles
    assert step.events.filter(status="CREATE_COMPLETE", resource__startswith="CDKToolkit").exists()
    assert region_status(step.region).text == f"Bootstrapped (version {template_version()})"
    # The region's own lifecycle is not a bootstrap's business.
    assert step.region.state == RegionState.PLANNED
    assert AuditEntry.objects.filter(action="rollout.bootstrap", object_id=str(rollout.pk)).exists()
    assert region_status(three_regions.regions.get(code="ap-southeast-2")).text == (
        "Not bootstrapped")


def test_bootstrapping_again_keeps_the_stacks_parameters_and_changes_nothing_it_should_not(
        aws, application, operator):
    first = drive(rollouts.start_bootstrap(application, operator))
    assert first.status == Status.SUCCEEDED, first.explanation
    calls = []
    original = runs.Engine.call

    def recording(engine, operation, **kwargs):
        calls.append((operation, kwargs))
        return original(engine, operation, **kwargs)

    runs.Engine.call = recording
    try:
        again = drive(rollouts.start_bootstrap(application, operator))
    finally:
        runs.Engine.call = original
    assert again.status == Status.SUCCEEDED, again.explanation
    created = next(kw for op, kw in calls if op == "create_change_set")
    assert created["ChangeSetType"] == "UPDATE"
    assert {"ParameterKey": "FileAssetsBucketKmsKeyId", "UsePreviousValue": True} in created[
        "Parameters"]


def test_a_newer_bootstrap_is_never_downgraded(aws, application, operator):
    client("ssm", "us-east-1").put_parameter(Name=VERSION_PARAMETER, Value="99", Type="String")

    rollout = drive(rollouts.start_bootstrap(application, operator))

    assert rollout.status == Status.ERROR
    assert rollout.explanation == (
        f"Planning failed: us-east-1: us-east-1 is bootstrapped at version 99, newer than the "
        f"{template_version()} this control plane deploys; not downgrading it.")


def test_a_plan_stops_before_publishing_when_the_region_is_not_bootstrapped(
        aws, three_regions, operator, apps, settings):
    settings.SANDBOX = False
    use_app(three_regions, apps, "bootstrapped.py")
    three_regions.regions.update(state=RegionState.ACTIVE)

    rollout = drive(rollouts.start_plan(three_regions, operator))

    assert rollout.status == Status.ERROR
    step = rollout.deployments.get(region__code="eu-west-1")
    assert step.explanation == (
        "eu-west-1 is not bootstrapped for this app (needs version 6, found none): press "
        "Bootstrap on the region page, or `manage.py bootstrap orders --region eu-west-1`.")
    assert step.change_set_id == ""
    assert not client("s3", "eu-west-1").list_buckets()["Buckets"]
    assert not rollout.deployments.filter(action="bootstrap").exists()


def test_an_older_bootstrap_than_the_stack_needs_is_named_with_both_versions(
        aws, application, operator, apps, settings):
    settings.SANDBOX = False
    use_app(application, apps, "bootstrapped.py")
    client("ssm", "us-east-1").put_parameter(Name=VERSION_PARAMETER, Value="5", Type="String")

    rollout = drive(rollouts.start_plan(application, operator))

    assert rollout.deployments.get().explanation.startswith(
        "us-east-1 is not bootstrapped for this app (needs version 6, found 5): press Bootstrap")


def test_in_the_sandbox_a_plan_bootstraps_the_region_first_then_publishes_its_assets(
        aws, three_regions, operator, apps, settings):
    settings.SANDBOX = True
    use_app(three_regions, apps, "bootstrapped.py")
    three_regions.regions.update(state=RegionState.ACTIVE)

    rollout = drive(rollouts.start_plan(three_regions, operator))

    assert rollout.status == Status.PLANNED, rollout.explanation
    boots = {d.region.code: d for d in rollout.deployments.filter(action="bootstrap")}
    assert sorted(boots) == ["ap-southeast-2", "eu-west-1", "us-east-1"]
    assert all(d.status == Status.SUCCEEDED and d.executed_at for d in boots.values())
    step = rollout.deployments.get(region__code="eu-west-1", action="deploy_region")
    lines = list(step.events.values_list("message", flat=True))
    assert any(line.startswith("eu-west-1 is not bootstrapped (found none, the stack needs 6); "
                               "the sandbox bootstraps it first") for line in lines)
    assert f"eu-west-1 is bootstrapped (version {template_version()}; the stack needs 6)." in lines
    assert "Assets published: 3 uploaded, 0 already there." in lines
    assert step.needs["template_url"].startswith("https://s3.eu-west-1.amazonaws.com/")
    keys = {o["Key"] for o in client("s3", "eu-west-1").list_objects_v2(
        Bucket=BUCKET.format("eu-west-1"))["Contents"]}
    assert len(keys) == 3
    assert step.change_set_id and {c["logical_id"] for c in step.changes} >= {"Fn", "Inner"}

    # A second plan finds every region bootstrapped and every asset published.
    rollouts.end(rollout, Status.CANCELLED, "replaced", from_statuses=(Status.PLANNED,))
    again = drive(rollouts.start_plan(three_regions, operator))
    assert again.status == Status.PLANNED, again.explanation
    assert not again.deployments.filter(action="bootstrap").exists()
    step = again.deployments.get(region__code="eu-west-1")
    assert step.events.filter(message="Assets published: 0 uploaded, 3 already there.").exists()


def test_a_bootstrap_step_does_not_hold_its_region_against_the_regions_own_step(
        aws, application, operator):
    rollout = rollouts.start_plan(application, operator)
    region = application.regions.get()
    Deployment.objects.create(rollout=rollout, region=region, step=0, action="update_main",
                              stack_name="orders-us-east-1", status=Status.RUNNING)
    step = bootstrap.create_step(rollout, region)
    assert (step.step, step.status) == (1, Status.QUEUED)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_bootstraps_every_region_and_the_command_says_so(
        aws, three_regions, celery_worker_factory, capsys):
    celery_worker_factory("deploys", DEPLOY_POLL_INTERVAL="0.1")

    call_command("bootstrap", "orders", "--wait", "--poll", "0.2")

    out = capsys.readouterr().out
    for region in ("us-east-1", "eu-west-1", "ap-southeast-2"):
        assert f"{region}: Bootstrapped (version {template_version()})" in out
        assert version(region) == str(template_version())
    rollout = Rollout.objects.get(kind="bootstrap")
    assert rollout.status == Status.SUCCEEDED
    assert {d.status for d in rollout.deployments.all()} == {Status.SUCCEEDED}

    client("ssm", "eu-west-1").put_parameter(Name=VERSION_PARAMETER, Value="99", Type="String",
                                            Overwrite=True)
    started = time.monotonic()
    with pytest.raises(CommandError, match="ended error"):
        call_command("bootstrap", "orders", "--region", "eu-west-1", "--wait", "--poll", "0.2")
    assert time.monotonic() - started < 120
