"""A deployed region's health check, from its HealthCheckId output or found among its stack's
resources; a stack with none to watch fails its step with the contract error. And a template
too large for a request body with nowhere to publish it. Against a moto server."""

import pytest

from deployer import rollouts, runs
from deployer.models import Status
from lib.aws import client
from tests.deployer.conftest import region_template


@pytest.fixture
def deploy(make_deployment, operator):
    def run(region, template):
        d = make_deployment(region, template)
        runs.plan_deployment(d.pk)
        rollouts.apply(d.rollout, operator)
        runs.run_deployment(d.pk)
        d.refresh_from_db()
        region.refresh_from_db()
        return d

    return run


def test_a_stack_without_the_output_records_the_health_check_its_resources_hold(
        aws, application, deploy):
    template = region_template("orders", "us-east-1")
    del template["Outputs"]["HealthCheckId"]
    region = application.regions.get()

    d = deploy(region, template)

    assert d.status == Status.SUCCEEDED, d.explanation
    assert "HealthCheckId" not in d.outputs
    [check] = client("route53", "us-east-1").list_health_checks()["HealthChecks"]
    assert region.health_check_id == check["Id"]
    assert region.api_url == "https://us-east-1.api.example.com/prod/"


def test_a_stack_with_no_health_check_fails_its_step_with_the_contract_error(
        aws, application, deploy):
    template = region_template("orders", "us-east-1")
    del template["Resources"]["Health"], template["Outputs"]["HealthCheckId"]
    region = application.regions.get()

    d = deploy(region, template)

    assert d.status == Status.FAILED
    assert d.explanation == (
        "Stack CREATE_COMPLETE. Contract error: Stack orders-us-east-1 has no Route 53 health "
        "check (AWS::Route53::HealthCheck) and does not output HealthCheckId: the control plane "
        "has nothing to watch the region by.")
    assert region.health_check_id == ""


def test_a_template_too_large_for_a_request_with_nowhere_to_publish_it_is_refused(
        aws, application, make_deployment):
    template = region_template("orders", "us-east-1")
    template["Metadata"] = {"Padding": "x" * 52_000}
    d = make_deployment(application.regions.get(), template)

    runs.plan_deployment(d.pk)

    d.refresh_from_db()
    assert d.status == Status.ERROR
    assert d.explanation.startswith("The template of stack orders-us-east-1 is 5")
    assert d.explanation.endswith(
        "bytes, more than the 51,200 CloudFormation takes in a request, and its synthesizer "
        "publishes no copy of it: use the default synthesizer (DefaultStackSynthesizer), which "
        "publishes the template to the bootstrap bucket, or make the stack smaller.")
    assert d.change_set_id == ""
