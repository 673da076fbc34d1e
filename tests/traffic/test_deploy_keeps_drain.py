"""A deploy never undoes a drain: the sandbox app, synthesized with the inventory's traffic
states, deployed through change sets by a real worker on moto; then drained, and deployed
again."""

import pytest

from accounts.audit import Actor
from deployer import rollouts
from deployer.models import DeploymentEvent, Status
from lib import aws as aws_door
from regions.models import RegionState, Traffic
from regions.services import add_region
from tests.deployer.test_orchestration import WORKER_ENV, in_inventory, wait_for
from traffic import services

from .conftest import set_health, threshold_of

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_deploy_keeps_a_drain_and_the_template_says_drained(
        aws, application, operator, celery_worker_factory):
    in_inventory(application, state=RegionState.PLANNED)
    add_region(application, "eu-west-1", Actor(operator))
    zone = aws_door.client("route53", "us-east-1").create_hosted_zone(
        Name="example.com", CallerReference="keeps-drain")["HostedZone"]["Id"]
    application.__class__.objects.filter(pk=application.pk).update(
        source="sandbox", hosted_zone_id=zone.rsplit("/", 1)[-1])
    application.refresh_from_db()
    env = {k: v for k, v in WORKER_ENV.items() if k != "DEPLOYER_TEMPLATES"}
    celery_worker_factory("deploys", **{**env, "DEPLOY_FOLLOW_DELAY": "0",
                                                 "SANDBOX": "1"})

    first = wait_for(rollouts.start_deploy(application, operator), timeout=300)

    assert first.status == Status.SUCCEEDED, first.explanation
    regions = {r.code: r for r in application.regions.all()}
    for region in regions.values():
        assert set(region.outputs) >= {"RoutingCheckId", "ControlCheckId", "HealthCheckId"}
        # moto keeps no threshold from a template: the deploy set the inventory's.
        assert threshold_of(region) == 2
        set_health(region, True)
    lines = list(DeploymentEvent.objects.filter(deployment__rollout=first)
                 .values_list("message", flat=True))
    assert any("threshold None set to 2 (serving, as the inventory says)" in line
               for line in lines)

    change = services.change_traffic(application, "eu-west-1", "drain", Actor(operator))
    assert change.status == "applied"
    assert threshold_of(regions["eu-west-1"]) == 3

    # The drain is an input of the synth: eu-west-1's template changes with it.
    second = wait_for(rollouts.start_deploy(application, operator), timeout=300)

    assert second.status == Status.SUCCEEDED, second.explanation
    assert threshold_of(regions["eu-west-1"]) == 3
    assert threshold_of(regions["us-east-1"]) == 2
    regions["eu-west-1"].refresh_from_db()
    assert regions["eu-west-1"].traffic == Traffic.DRAINED
    step = second.deployments.filter(region__code="eu-west-1").exclude(template__isnull=True).last()
    routing = [r for r in step.template["Resources"].values()
               if r["Type"] == "AWS::Route53::HealthCheck"
               and r["Properties"]["HealthCheckConfig"]["Type"] == "CALCULATED"]
    assert [r["Properties"]["HealthCheckConfig"]["HealthThreshold"] for r in routing] == [3]
