"""The region page's bootstrap status and Bootstrap button, and the bootstrap endpoint of the
API, against a moto server."""

import pytest
from django.urls import reverse

from accounts.models import AuditEntry
from deployer.bootstrap import VERSION_PARAMETER, template_version
from deployer.models import Deployment, Rollout, Status
from lib.aws import client
from tests.api.conftest import Api

pytestmark = pytest.mark.django_db

PAGE = "/applications/orders/regions/us-east-1/"


def bootstrapped(region: str, version: str) -> None:
    """What the bootstrap stack leaves for a plan to read."""
    client("ssm", region).put_parameter(Name=VERSION_PARAMETER, Value=version, Type="String",
                                        Overwrite=True)


def test_an_operator_sees_a_region_not_bootstrapped_and_the_button(client, operator, aws,
                                                                   application):
    client.force_login(operator)
    page = client.get(PAGE).content.decode()
    assert 'data-bootstrapped="no"' in page
    assert "Not bootstrapped" in page
    assert reverse("deployer:region_bootstrap", args=["orders", "us-east-1"]) in page
    assert f"CDKToolkit, version {template_version()}" in page


def test_a_viewer_sees_the_version_and_no_button(client, viewer, aws, application):
    bootstrapped("us-east-1", "33")
    client.force_login(viewer)
    page = client.get(PAGE).content.decode()
    assert "Bootstrapped (version 33)" in page and 'data-bootstrapped="yes"' in page
    assert reverse("deployer:region_bootstrap", args=["orders", "us-east-1"]) not in page


def test_a_version_older_than_the_last_plan_needs_says_both(client, viewer, aws, application):
    rollout = Rollout.objects.create(application=application, status=Status.SUCCEEDED)
    Deployment.objects.create(
        rollout=rollout, region=application.regions.get(), step=0, action="update_main",
        stack_name="orders-us-east-1", status=Status.SUCCEEDED,
        needs={"bootstrap_version": 21, "version_parameter": VERSION_PARAMETER})
    bootstrapped("us-east-1", "20")
    client.force_login(viewer)
    page = client.get(PAGE).content.decode()
    assert "Bootstrapped at version 20; the app needs 21" in page


def test_the_button_starts_a_bootstrap_rollout_of_the_region(client, operator, aws,
                                                             three_regions):
    client.force_login(operator)
    response = client.post(reverse("deployer:region_bootstrap", args=["orders", "eu-west-1"]))
    rollout = Rollout.objects.get()
    assert response.url == rollout.get_absolute_url()
    assert (rollout.kind, rollout.only_region, rollout.status) == ("bootstrap", "eu-west-1",
                                                                   Status.QUEUED)
    assert AuditEntry.objects.filter(action="rollout.bootstrap", actor=operator).exists()


def test_a_viewer_cannot_bootstrap(client, viewer, application):
    client.force_login(viewer)
    response = client.post(reverse("deployer:region_bootstrap", args=["orders", "us-east-1"]))
    assert response.status_code == 403
    assert not Rollout.objects.exists()


def test_the_api_bootstraps_a_region_and_answers_409_while_a_rollout_is_active(operator,
                                                                               three_regions):
    api = Api(operator)
    response = api.post("/api/v1/applications/orders/regions/eu-west-1/bootstrap")
    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["status"]) == ("bootstrap", "queued")

    again = api.post("/api/v1/applications/orders/regions/us-east-1/bootstrap")
    assert again.status_code == 409
    assert again.json()["active_rollout"] == body["id"]


def test_the_api_answers_404_for_a_region_the_application_does_not_have(operator, application):
    response = Api(operator).post("/api/v1/applications/orders/regions/eu-west-1/bootstrap")
    assert response.status_code == 404
    assert not Rollout.objects.exists()


def test_the_api_refuses_a_viewer(viewer, application):
    response = Api(viewer).post("/api/v1/applications/orders/regions/us-east-1/bootstrap")
    assert response.status_code == 403
