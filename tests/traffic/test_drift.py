"""Drift: each poll cycle reads the routing checks' thresholds (one ListHealthChecks) and says
when one was changed outside Meridian, on the region page and in the status API."""

import pytest
from django.test import Client
from django.utils import timezone

from accounts.audit import Actor
from regions.models import Traffic
from tests.api.conftest import Api
from traffic import dns_tasks, drift, services
from traffic.models import Path, RoutingReading, TrafficChange

from .conftest import route53

pytestmark = pytest.mark.django_db


def set_threshold_outside(region, value: int) -> None:
    """What an operator does in the Route 53 console."""
    region.refresh_from_db()
    outputs = region.outputs
    route53().update_health_check(HealthCheckId=outputs["RoutingCheckId"],
                                  HealthThreshold=value,
                                  ChildHealthChecks=[outputs["HealthCheckId"],
                                                     outputs["ControlCheckId"]])


@pytest.mark.parametrize(("traffic", "seen", "alarm_only", "words"), [
    (Traffic.SERVING, 2, False, ""),
    (Traffic.DRAINED, 3, False, ""),
    (Traffic.FORCED, 0, False, ""),
    (Traffic.DRAINED, 2, True, ""),
    (Traffic.SERVING, 0, False,
     "changed outside Meridian: threshold 0 seen (forced serving), 2 expected (serving)"),
    (Traffic.DRAINED, 2, False,
     "changed outside Meridian: threshold 2 seen (serving), 3 expected (drained)"),
    (Traffic.SERVING, 1, False, "changed outside Meridian: threshold 1 seen, 2 expected (serving)"),
])
def test_the_rule_knows_what_meridian_itself_leaves(traffic, seen, alarm_only, words):
    assert drift.finding(traffic, seen, alarm_only) == words


def test_a_threshold_set_in_the_console_shows_on_the_region_page_and_in_the_status(
        routed, viewer):
    set_threshold_outside(routed["eu-west-1"], 0)
    report = dns_tasks.check_routing_drift()
    assert report["regions"] == 3 and report["errors"] == []
    assert report["drift"] == ["orders/eu-west-1: changed outside Meridian: threshold 0 seen "
                               "(forced serving), 2 expected (serving)"]

    client = Client()
    client.force_login(viewer)
    page = client.get("/applications/orders/regions/eu-west-1/").content.decode()
    assert ("Routing check changed outside Meridian: threshold 0 seen (forced serving), 2 "
            "expected (serving)") in page
    assert "changed outside" not in client.get(
        "/applications/orders/regions/us-east-1/").content.decode()

    status = {r["code"]: r for r in Api(viewer).get("/api/v1/applications/orders/status")
              .json()["regions"]}
    assert status["eu-west-1"]["routing_threshold"] == 0
    assert status["eu-west-1"]["traffic_drift"].startswith("changed outside Meridian")
    assert (status["us-east-1"]["traffic_drift"], status["us-east-1"]["routing_threshold"]) == (
        "", 2)


def test_a_drain_through_meridian_is_no_drift_and_a_reading_before_a_change_is_not_shown(
        routed, application, operator):
    dns_tasks.check_routing_drift()
    services.change_traffic(application, "eu-west-1", "drain", Actor(operator))
    reading = RoutingReading.objects.select_related("region").get(region=routed["eu-west-1"])
    assert reading.traffic == Traffic.SERVING and reading.current_drift() == ""
    dns_tasks.check_routing_drift()
    reading.refresh_from_db()
    assert (reading.threshold, reading.drift) == (3, "")


def test_a_drain_that_acted_only_through_the_alarm_keeps_threshold_2_without_drift(
        routed, application, operator):
    region = routed["eu-west-1"]
    region.traffic = Traffic.DRAINED
    region.traffic_changed_at = timezone.now()
    region.save(update_fields=["traffic", "traffic_changed_at"])
    TrafficChange.objects.create(application=application, region=region, from_state="serving",
                                 to_state="drained", actor_name="otto", source="web",
                                 status="applied", path=Path.CLOUDWATCH,
                                 requested_at=timezone.now())
    assert dns_tasks.check_routing_drift()["drift"] == []
    assert RoutingReading.objects.get(region=region).threshold == 2


def test_a_failed_read_keeps_the_last_reading_and_says_why(routed, settings):
    set_threshold_outside(routed["eu-west-1"], 0)
    dns_tasks.check_routing_drift()
    settings.ROUTE53_RATE = 0  # no Route 53 call may be made
    report = drift.check_all()
    assert report["errors"] and "budget" in report["errors"][0]
    reading = RoutingReading.objects.get(region=routed["eu-west-1"])
    assert reading.threshold == 0 and reading.drift.startswith("changed outside")
    assert "budget" in reading.error
