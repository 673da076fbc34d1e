"""The review page: each change's properties with their values before and after, beside the
stateful flags, and each change set linked to its page in the AWS console (not in the
sandbox)."""

import pytest
from django.utils import timezone

from deployer.cloudformation import parse_change
from deployer.models import Deployment, Rollout, Status
from tests.api.conftest import Api

from .test_changes import DOCUMENTED

pytestmark = pytest.mark.django_db

ARN = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/meridian-1-0-ab/0f1e"


@pytest.fixture
def plan(application):
    rollout = Rollout.objects.create(application=application, kind="plan",
                                     status=Status.PLANNED, planned_at=timezone.now())
    Deployment.objects.create(
        rollout=rollout, region=application.regions.get(), step=0, action="update_main",
        stack_name="orders-us-east-1", status=Status.PLANNED, change_set_id=ARN,
        change_set_name="meridian-1-0-ab", changes=[parse_change(DOCUMENTED)],
        resources_total=1)
    return rollout


def test_the_review_shows_each_property_before_and_after(client, viewer, plan):
    client.force_login(viewer)

    page = client.get(plan.get_absolute_url()).content.decode()

    assert '<span class="mono">/Properties/BucketName</span>' in page
    assert '<del class="mono before">my-s3-bucket</del> → ' \
           '<ins class="mono after">my-s3-bucket-2</ins>' in page
    assert 'title="Changing this property recreates the resource">recreates' in page
    # An added property had no value before.
    assert '<del class="mono before">—</del> → <ins class="mono after">{&quot;Status&quot;:' \
           '&quot;Enabled&quot;}</ins>' in page


def test_a_property_without_values_says_the_endpoint_gave_none(client, viewer, plan):
    plan.deployments.update(changes=[{
        "logical_id": "Release", "type": "AWS::SSM::Parameter", "action": "Modify",
        "replacement": False, "stateful_flag": False, "details": [
            {"path": "/Properties/Value", "name": "Value", "change": "", "before": None,
             "after": None, "recreation": "Never"}]}])
    client.force_login(viewer)

    page = client.get(plan.get_absolute_url()).content.decode()

    assert "changes (values not given by this endpoint)" in page


def test_changes_stored_before_values_were_read_still_render(client, viewer, plan):
    plan.deployments.update(changes=[{
        "logical_id": "Release", "type": "AWS::SSM::Parameter", "action": "Modify",
        "replacement": False, "stateful_flag": False}])
    client.force_login(viewer)

    response = client.get(plan.get_absolute_url())

    assert response.status_code == 200
    assert "property-changes" not in response.content.decode()


def test_the_change_set_links_to_the_console_outside_the_sandbox(client, viewer, plan,
                                                                 settings):
    settings.SANDBOX = False
    client.force_login(viewer)

    page = client.get(plan.get_absolute_url()).content.decode()

    assert ('href="https://us-east-1.console.aws.amazon.com/cloudformation/home?region=us-east-1'
            '#/stacks/changesets/changes?stackId=orders-us-east-1&amp;changeSetId=arn%3Aaws'
            in page)
    assert "#/stacks/stackinfo?stackId=orders-us-east-1" in page


def test_the_sandbox_shows_the_change_set_without_a_link(client, viewer, plan, settings):
    settings.SANDBOX = True
    client.force_login(viewer)

    page = client.get(plan.get_absolute_url()).content.decode()

    assert 'change set <span class="mono">meridian-1-0-ab</span>' in page
    assert "console.aws.amazon.com" not in page


def test_the_api_gives_property_values_and_the_change_set_url(viewer, plan, settings):
    settings.SANDBOX = False

    body = Api(viewer).get(f"/api/v1/rollouts/{plan.pk}").json()

    [d] = body["deployments"]
    assert d["change_set_url"].startswith("https://us-east-1.console.aws.amazon.com/")
    assert d["changes"][0]["details"][0] == {
        "path": "/Properties/BucketName", "name": "BucketName", "change": "Modify",
        "before": "my-s3-bucket", "after": "my-s3-bucket-2", "recreation": "Always"}
