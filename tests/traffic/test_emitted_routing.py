"""In the sandbox the emitter publishes each routing check's HealthCheckStatus as Route 53 would
compute it: from its threshold, the endpoint's emitted health and the drain alarm."""

from datetime import UTC, datetime, timedelta

import pytest

from accounts.audit import Actor
from sandbox import emitter
from sandbox.models import FaultKind, SandboxFault
from tests.sandbox.test_faults import latest
from traffic import routing, services

pytestmark = pytest.mark.django_db


def routing_status(region) -> float | None:
    region.refresh_from_db()
    return latest("us-east-1", "AWS/Route53", "HealthCheckStatus",
                  {"HealthCheckId": region.outputs["RoutingCheckId"]})


def test_serving_regions_routing_checks_are_healthy_and_a_drain_makes_one_unhealthy(
        routed, application, operator):
    earlier = datetime.now(UTC) - timedelta(minutes=3)
    report = emitter.emit(now=earlier)
    assert report.errors == []
    assert report.routing == {"orders/us-east-1": True, "orders/eu-west-1": True,
                              "orders/ap-southeast-2": True}
    assert routing_status(routed["eu-west-1"]) == 1.0

    services.change_traffic(application, "eu-west-1", "drain", Actor(operator))
    report = emitter.emit(now=datetime.now(UTC))
    assert report.routing["orders/eu-west-1"] is False
    assert report.routing["orders/us-east-1"] is True
    assert routing_status(routed["eu-west-1"]) == 0.0


def test_the_drain_alarm_alone_makes_the_routing_check_unhealthy(routed, application):
    routing.put_drained(application, "ap-southeast-2", True)  # the data-plane switch only
    assert emitter.emit().routing["orders/ap-southeast-2"] is False


def test_an_outage_fails_a_serving_routing_check_but_not_a_forced_one(
        routed, application, admin_user):
    for code in ("eu-west-1", "ap-southeast-2"):
        SandboxFault.objects.create(region=routed[code], kind=FaultKind.OUTAGE)
    services.change_traffic(application, "ap-southeast-2", "force", Actor(admin_user))
    report = emitter.emit()
    assert report.health["orders/eu-west-1"] is False
    assert report.routing["orders/eu-west-1"] is False
    assert report.routing["orders/ap-southeast-2"] is True
