"""Drain, restore and force against moto over HTTP: both switches, the guard, one change at a
time, the fallback to the data plane when Route 53's API does not answer, and the audit."""

import pytest
from django.core.management import CommandError, call_command

from accounts.audit import Actor
from accounts.models import AuditEntry
from lib import aws, route53_budget
from regions.models import Traffic
from traffic import routing, services
from traffic.models import ChangeStatus, TrafficChange

from .conftest import set_health, threshold_of

pytestmark = pytest.mark.django_db


def alarm_state(application, code: str) -> str:
    return routing.alarm_states(application, [code])[code]


def test_drain_sets_the_threshold_above_the_children_and_restore_puts_it_back(
        routed, application, operator):
    eu = routed["eu-west-1"]
    change = services.change_traffic(application, "eu-west-1", "drain", Actor(operator),
                                     "maintenance")

    assert (change.status, change.path) == (ChangeStatus.APPLIED, "both"), change.route53_error
    assert threshold_of(eu) == 3
    assert alarm_state(application, "eu-west-1") == "ALARM"
    eu.refresh_from_db()
    assert eu.traffic == Traffic.DRAINED
    children = aws.client("route53", "us-east-1").get_health_check(
        HealthCheckId=eu.outputs["RoutingCheckId"])["HealthCheck"]["HealthCheckConfig"]
    assert children["ChildHealthChecks"] == [eu.outputs["HealthCheckId"],
                                             eu.outputs["ControlCheckId"]]
    assert change.seconds_to_route53 is not None and change.seconds_to_route53 >= 0

    back = services.change_traffic(application, "eu-west-1", "restore", Actor(operator))

    assert back.status == ChangeStatus.APPLIED
    assert threshold_of(eu) == 2
    assert alarm_state(application, "eu-west-1") == "OK"
    entry = AuditEntry.objects.filter(action="traffic.drain").get()
    assert (entry.before, entry.after) == ({"traffic": "serving"},
                                           {"traffic": "drained", "reason": "maintenance"})
    assert AuditEntry.objects.filter(action="traffic.restore").count() == 1


def test_force_sets_the_threshold_to_zero(routed, application, admin_user):
    services.change_traffic(application, "ap-southeast-2", "force", Actor(admin_user))
    assert threshold_of(routed["ap-southeast-2"]) == 0


def test_the_guard_refuses_to_drain_the_last_serving_healthy_region(routed, application,
                                                                    operator):
    set_health(routed["ap-southeast-2"], False)
    services.change_traffic(application, "eu-west-1", "drain", Actor(operator))

    with pytest.raises(services.Refused) as refused:
        services.change_traffic(application, "us-east-1", "drain", Actor(operator))

    assert str(refused.value) == (
        "Draining us-east-1 would leave 0 regions serving and healthy (none); this application "
        "needs at least 1 (min_serving). ap-southeast-2 is unhealthy; eu-west-1 is drained.")
    assert threshold_of(routed["us-east-1"]) == 2
    assert TrafficChange.objects.filter(region=routed["us-east-1"]).count() == 0


def test_min_serving_counts_regions_that_stay_serving_and_healthy(routed, application,
                                                                  operator):
    application.min_serving = 2
    application.save()
    services.change_traffic(application, "eu-west-1", "drain", Actor(operator))
    with pytest.raises(services.Refused, match="needs at least 2"):
        services.change_traffic(application, "ap-southeast-2", "drain", Actor(operator))


def test_one_traffic_change_per_application_at_a_time(routed, application, operator):
    from django.utils import timezone

    TrafficChange.objects.create(application=application, region=routed["us-east-1"],
                                 from_state="serving", to_state="drained", actor_name="other",
                                 source="api", requested_at=timezone.now())
    with pytest.raises(services.Refused, match="Another traffic change of orders is under way"):
        services.change_traffic(application, "eu-west-1", "drain", Actor(operator))


def test_an_abandoned_change_does_not_block_the_next_one(routed, application, operator,
                                                         settings):
    from datetime import timedelta

    from django.utils import timezone

    stuck = TrafficChange.objects.create(
        application=application, region=routed["us-east-1"], from_state="serving",
        to_state="drained", actor_name="other", source="api",
        requested_at=timezone.now() - timedelta(seconds=settings.TRAFFIC_CHANGE_TIMEOUT + 1))
    services.change_traffic(application, "eu-west-1", "drain", Actor(operator))
    stuck.refresh_from_db()
    assert stuck.status == ChangeStatus.FAILED


def _route53_down(monkeypatch):
    def unreachable(application=None, timeout=5.0, **overrides):
        client = aws.client("route53", "us-east-1", application, **overrides)
        # Nothing listens on port 9 of loopback: every call fails to connect.
        client.meta.events.register("before-sign.route-53", _refuse)
        return client

    monkeypatch.setattr(route53_budget, "route53_client", unreachable)


def _refuse(**kwargs):
    raise aws.AwsError("cannot reach the endpoint", code="Unreachable", retryable=True,
                       service="route53", region="us-east-1")


def test_with_route53s_api_down_the_drain_alarm_drains_the_region(
        routed, application, operator, monkeypatch):
    _route53_down(monkeypatch)

    change = services.change_traffic(application, "eu-west-1", "drain", Actor(operator))

    assert (change.status, change.path) == (ChangeStatus.APPLIED, "cloudwatch")
    assert change.route53_error.startswith("Route 53 in us-east-1: Unreachable")
    assert alarm_state(application, "eu-west-1") == "ALARM"
    monkeypatch.undo()
    assert threshold_of(routed["eu-west-1"]) == 2  # the threshold never moved

    # The drain acted through the data plane only: restoring needs only the data plane too.
    _route53_down(monkeypatch)
    back = services.change_traffic(application, "eu-west-1", "restore", Actor(operator))
    assert (back.status, back.path) == (ChangeStatus.APPLIED, "cloudwatch")
    assert alarm_state(application, "eu-west-1") == "OK"


def test_a_restore_that_cannot_reset_the_threshold_fails_and_keeps_the_region_drained(
        routed, application, operator, monkeypatch):
    services.change_traffic(application, "eu-west-1", "drain", Actor(operator))
    _route53_down(monkeypatch)

    back = services.change_traffic(application, "eu-west-1", "restore", Actor(operator))

    assert back.status == ChangeStatus.FAILED
    routed["eu-west-1"].refresh_from_db()
    assert routed["eu-west-1"].traffic == Traffic.DRAINED
    assert services.failure_message(back).startswith(
        "Restore of eu-west-1 failed; it is still drained. Route 53 in us-east-1: Unreachable")


def test_a_region_without_a_routing_check_is_refused_with_the_contract_hint(
        routed, application, operator):
    eu = routed["eu-west-1"]
    eu.outputs = {"HealthCheckId": eu.health_check_id}
    eu.save()
    with pytest.raises(services.Refused, match="has no routing health check"):
        services.change_traffic(application, "eu-west-1", "drain", Actor(operator))


def test_the_command_drains_and_says_how_long_route53_took(routed, capsys):
    call_command("traffic", "orders", "eu-west-1", "drain", "--reason", "drill by hand")
    out = capsys.readouterr().out
    assert out.startswith("eu-west-1 of orders is now drained (through route 53 threshold "
                          "and drain alarm; Route 53 updated ")
    with pytest.raises(CommandError, match="eu-west-1 is already drained"):
        call_command("traffic", "orders", "eu-west-1", "drain")
