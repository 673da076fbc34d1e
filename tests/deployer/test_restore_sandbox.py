"""After `make run` restarts, the local AWS is empty: what the inventory says is deployed is
deployed again; what still exists is left alone."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from deployer.models import Rollout
from lib import aws
from regions.models import Region, RegionState


@pytest.fixture
def deployed(application, settings, aws):
    settings.SANDBOX = True
    Region.objects.filter(application=application).update(state=RegionState.ACTIVE)
    return application


def test_an_application_whose_stacks_are_gone_is_redeployed(deployed, capsys):
    call_command("restore_sandbox")

    rollout = Rollout.objects.get()
    assert (rollout.application, rollout.kind) == (deployed, "deploy")
    assert "the local AWS started empty; redeploying" in capsys.readouterr().out


def test_an_application_whose_main_stack_exists_is_left_alone(deployed):
    template = ('{"Resources": {"P": {"Type": "AWS::SNS::Topic", '
                '"Properties": {"TopicName": "orders-topic"}}}}')
    aws.client("cloudformation", "us-east-1").create_stack(
        StackName="orders-us-east-1", TemplateBody=template)

    call_command("restore_sandbox")

    assert not Rollout.objects.exists()


def test_an_application_whose_main_stack_never_ran_a_change_set_is_redeployed(deployed):
    template = ('{"Resources": {"P": {"Type": "AWS::SNS::Topic", '
                '"Properties": {"TopicName": "orders-topic"}}}}')
    aws.client("cloudformation", "us-east-1").create_change_set(
        StackName="orders-us-east-1", ChangeSetName="never-ran", ChangeSetType="CREATE",
        TemplateBody=template)

    call_command("restore_sandbox")

    assert Rollout.objects.get().application == deployed


def test_planned_applications_and_real_aws_are_not_touched(application, settings, aws):
    settings.SANDBOX = True
    call_command("restore_sandbox")
    assert not Rollout.objects.exists()
    settings.SANDBOX = False
    with pytest.raises(CommandError, match="only runs in sandbox mode"):
        call_command("restore_sandbox")
