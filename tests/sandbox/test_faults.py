from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from accounts.audit import Actor
from accounts.models import AuditEntry
from lib import aws
from regions import services
from regions.models import Region, RegionState
from sandbox import emitter
from sandbox import services as sandbox_services
from sandbox.models import FaultKind, SandboxFault


@pytest.fixture
def sandbox_app(aws, settings, application):
    """The 'orders' application deployed in the local AWS: three regions with health checks."""
    settings.SANDBOX = True
    actor = Actor(None, "cli")
    services.add_region(application, "eu-west-1", actor)
    services.add_region(application, "ap-southeast-2", actor)
    route53 = aws_client("route53")
    for region in application.regions.all():
        check = route53.create_health_check(
            CallerReference=f"hc-{region.code}",
            HealthCheckConfig={"Type": "HTTPS", "FullyQualifiedDomainName": f"{region.code}.example.com",
                               "Port": 443, "ResourcePath": "/prod/health",
                               "RequestInterval": 30, "FailureThreshold": 3},
        )["HealthCheck"]
        Region.objects.filter(pk=region.pk).update(health_check_id=check["Id"],
                                                   state=RegionState.ACTIVE)
    return application


def aws_client(service, region="us-east-1"):
    return aws.client(service, region)


def latest(region: str, namespace: str, name: str, dims: dict) -> float | None:
    now = datetime.now(UTC)
    answer = aws_client("cloudwatch", region).get_metric_data(
        MetricDataQueries=[{
            "Id": "m",
            "MetricStat": {"Metric": {"Namespace": namespace, "MetricName": name,
                                      "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()]},
                           "Period": 60, "Stat": "Minimum"},
        }],
        StartTime=now - timedelta(minutes=10), EndTime=now + timedelta(minutes=1),
    )
    values = answer["MetricDataResults"][0]["Values"]
    return values[0] if values else None


def health_of(region: Region) -> float | None:
    region.refresh_from_db()
    return latest("us-east-1", "AWS/Route53", "HealthCheckStatus",
                  {"HealthCheckId": region.health_check_id})


def test_the_emitter_publishes_health_for_every_check_and_lag_for_every_pair(sandbox_app):
    report = emitter.emit()

    assert report.errors == []
    assert set(report.health.values()) == {True}
    assert len(report.lag) == 6
    for region in sandbox_app.regions.all():
        assert health_of(region) == 1.0
    lag = latest("eu-west-1", "AWS/DynamoDB", "ReplicationLatency",
                 {"TableName": "orders", "ReceivingRegion": "ap-southeast-2"})
    assert lag is not None and 50 <= lag < 5000
    # Published in the source region only: the receiving region's CloudWatch has no such pair.
    assert latest("ap-southeast-2", "AWS/DynamoDB", "ReplicationLatency",
                  {"TableName": "orders", "ReceivingRegion": "ap-southeast-2"}) is None
    # One Route 53 list call, one CloudWatch call for health, one per source region for lag.
    assert report.calls == 1 + 1 + 3


def test_an_outage_makes_the_region_unhealthy_and_restore_heals_it(sandbox_app, operator):
    region = sandbox_app.regions.get(code="eu-west-1")
    actor = Actor(operator, "cli")
    assert sandbox_services.inject(region, FaultKind.OUTAGE, actor) is True
    assert sandbox_services.inject(region, FaultKind.OUTAGE, actor) is False

    report = emitter.emit(now=datetime.now(UTC))
    assert report.health == {"orders/us-east-1": True, "orders/eu-west-1": False,
                             "orders/ap-southeast-2": True}
    assert health_of(region) == 0.0

    assert sandbox_services.restore(region, actor) == ["outage"]
    assert emitter.emit().health["orders/eu-west-1"] is True
    assert list(AuditEntry.objects.filter(action__startswith="sandbox.")
                .values_list("action", flat=True).order_by("id")) == ["sandbox.outage",
                                                                      "sandbox.restore"]


def test_the_emitter_honours_an_inverted_health_check(sandbox_app):
    region = sandbox_app.regions.get(code="ap-southeast-2")
    aws_client("route53").update_health_check(HealthCheckId=region.health_check_id, Inverted=True)

    assert emitter.emit().health["orders/ap-southeast-2"] is False


@pytest.mark.parametrize(
    ("outage", "flags", "healthy"),
    [(False, {}, True), (True, {}, False), (False, {"inverted": True}, False),
     (True, {"inverted": True}, True), (True, {"disabled": True}, True)],
)
def test_observed_health_follows_route53s_rules(outage, flags, healthy):
    assert emitter.observed_health(outage, flags) is healthy


def test_injected_lag_raises_the_lag_of_every_pair_touching_the_region(sandbox_app):
    region = sandbox_app.regions.get(code="ap-southeast-2")
    sandbox_services.inject(region, FaultKind.LAG, Actor(None, "cli"))
    lag = emitter.emit().lag
    touching = {k: v for k, v in lag.items() if "ap-southeast-2" in k}
    others = {k: v for k, v in lag.items() if "ap-southeast-2" not in k}
    assert len(touching) == 4 and min(touching.values()) > 10000
    assert len(others) == 2 and max(others.values()) < 5000


def test_operators_simulate_and_restore_from_the_region_page(client, sandbox_app, operator):
    client.force_login(operator)
    page = client.get(reverse("front:region_detail", args=["orders", "eu-west-1"])).content
    assert b"Simulate outage" in page and b"Simulate replication lag" in page
    url = reverse("sandbox:region_fault", args=["orders", "eu-west-1", "outage"])
    response = client.post(url, follow=True)
    assert b"Simulating: outage." in response.content
    assert SandboxFault.objects.filter(region__code="eu-west-1", kind="outage").exists()
    client.post(reverse("sandbox:region_fault", args=["orders", "eu-west-1", "restore"]))
    assert not SandboxFault.objects.exists()


def test_viewers_cannot_simulate_faults(client, sandbox_app, viewer):
    client.force_login(viewer)
    page = client.get(reverse("front:region_detail", args=["orders", "eu-west-1"])).content
    assert b"Simulate outage" not in page
    url = reverse("sandbox:region_fault", args=["orders", "eu-west-1", "outage"])
    assert client.post(url).status_code == 403
    assert not SandboxFault.objects.exists()


def test_faults_exist_only_in_sandbox_mode(client, application, operator, settings):
    settings.SANDBOX = False
    client.force_login(operator)
    page = client.get(reverse("front:region_detail", args=["orders", "us-east-1"])).content
    assert b"Rehearse an outage" not in page
    url = reverse("sandbox:region_fault", args=["orders", "us-east-1", "outage"])
    assert client.post(url).status_code == 403
    with pytest.raises(CommandError, match="only in sandbox mode"):
        call_command("sandbox", "outage", "us-east-1")


def test_the_sandbox_command_injects_and_restores(sandbox_app, capsys):
    call_command("sandbox", "outage", "eu-west-1")
    assert "Simulating outage in orders/eu-west-1" in capsys.readouterr().out
    call_command("sandbox", "emit")
    out = capsys.readouterr().out
    assert "orders/eu-west-1" in out and "UNHEALTHY" in out
    call_command("sandbox", "restore", "eu-west-1")
    assert "ended outage" in capsys.readouterr().out
    with pytest.raises(CommandError, match="No region eu-west-3"):
        call_command("sandbox", "outage", "eu-west-3")


def test_the_new_application_form_is_prefilled_with_the_sandbox_zone(client, aws, settings,
                                                                     admin_user):
    settings.SANDBOX = True
    client.force_login(admin_user)
    html = client.get(reverse("regions:application_create")).content.decode()
    zone_id = sandbox_services.sandbox_zone_id()
    assert f'value="{zone_id}"' in html
    assert 'value="app.sandbox.meridian.test"' in html
