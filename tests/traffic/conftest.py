"""Applications whose regions carry a routing health check in moto, as the reference and
sandbox apps' stacks leave them: an endpoint check, a drain-alarm check and a CALCULATED
routing check over both, named in the region's outputs."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from lib import aws
from regions.models import Region
from traffic import routing
from watch.models import HealthSample


def route53():
    return aws.client("route53", "us-east-1")


def _check(config: dict) -> str:
    answer = route53().create_health_check(CallerReference=str(uuid.uuid4()),
                                           HealthCheckConfig=config)
    return answer["HealthCheck"]["Id"]


def add_routing(region: Region, threshold: int = 2) -> routing.Checks:
    application = region.application
    endpoint = region.health_check_id or _check({
        "Type": "HTTPS", "FullyQualifiedDomainName": f"{region.code}.example.com", "Port": 443,
        "ResourcePath": "/prod/health"})
    control = _check({"Type": "CLOUDWATCH_METRIC", "InsufficientDataHealthStatus":
                      "LastKnownStatus", "AlarmIdentifier": {
                          "Region": routing.control_region(application),
                          "Name": routing.alarm_name(application.slug, region.code)}})
    checked = _check({"Type": "CALCULATED", "ChildHealthChecks": [endpoint, control],
                      "HealthThreshold": threshold})
    routing.ensure_alarm(application, region.code)
    region.health_check_id = endpoint
    region.outputs = {"HealthCheckId": endpoint, "ControlCheckId": control,
                      "RoutingCheckId": checked}
    region.save(update_fields=["health_check_id", "outputs"])
    return routing.Checks(routing=checked, endpoint=endpoint, control=control)


def set_health(region: Region, healthy: bool) -> None:
    """A fresh minute of the region's health, as the poller stores it."""
    at = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=1)
    HealthSample.objects.update_or_create(region=region, at=at,
                                          defaults={"status": 1.0 if healthy else 0.0})


def threshold_of(region: Region) -> int | None:
    region.refresh_from_db()
    check = route53().get_health_check(HealthCheckId=region.outputs["RoutingCheckId"])
    return check["HealthCheck"]["HealthCheckConfig"].get("HealthThreshold")


@pytest.fixture
def routed(aws, application, admin_user, settings):
    """orders in us-east-1 (main), eu-west-1 and ap-southeast-2, all healthy and serving.

    In sandbox mode: moto stores the drain alarm's datapoints but never evaluates the alarm,
    so Meridian sets its state as CloudWatch would."""
    from tests.watch.conftest import deploy_regions

    settings.SANDBOX = True
    regions = deploy_regions(application, ["us-east-1", "eu-west-1", "ap-southeast-2"],
                             admin_user)
    for region in regions:
        add_routing(region)
        set_health(region, True)
    return {r.code: r for r in application.regions.all()}


def add_latency_records(application, regions: dict[str, Region], private: bool = False) -> str:
    """A hosted zone with one latency A record per region on its routing check, as the
    reference and sandbox apps leave it; returns the zone id (also set on the application)."""
    route53_client = route53()
    extra = ({"VPC": {"VPCRegion": "us-east-1", "VPCId": "vpc-12345678"},
              "HostedZoneConfig": {"PrivateZone": True, "Comment": "private"}}
             if private else {})
    zone = route53_client.create_hosted_zone(Name="example.com", CallerReference=str(uuid.uuid4()),
                                             **extra)
    zone_id = zone["HostedZone"]["Id"].rsplit("/", 1)[-1]
    application.hosted_zone_id = zone_id
    application.save(update_fields=["hosted_zone_id"])
    changes = [{"Action": "CREATE", "ResourceRecordSet": {
        "Name": "api.example.com.", "Type": "A", "TTL": 60, "SetIdentifier": code,
        "Region": code, "HealthCheckId": region.outputs["RoutingCheckId"],
        "ResourceRecords": [{"Value": f"192.0.2.{n + 1}"}]}}
        for n, (code, region) in enumerate(sorted(regions.items()))]
    route53_client.change_resource_record_sets(HostedZoneId=zone_id,
                                               ChangeBatch={"Changes": changes})
    return zone_id


@pytest.fixture
def answering(routed, application):
    """`routed` with its latency records in a public zone of the local Route 53."""
    add_latency_records(application, routed)
    return routed


@pytest.fixture
def records(answering):
    """The drills' name for `answering`."""
    return answering
