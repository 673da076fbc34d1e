"""A running drill quiets failure messages about its region (held, in the history, sent if the
problem outlives it); drains, restores, forces and drills are told once as notices."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.evaluate import evaluate
from alerts.models import AlertRules, Delivery, Incident
from traffic.models import Drill, DrillStatus, TrafficChange

from .conftest import channel, poll_everything_fine, poll_health

pytestmark = pytest.mark.django_db


def drill_of(application, code: str, **extra) -> Drill:
    now = timezone.now()
    return Drill.objects.create(application=application, region=application.regions.get(code=code),
                                minutes=5, actor_name="otto", source="api", requested_at=now,
                                ends_at=now + timedelta(minutes=5), **extra)


def bodies() -> list[str]:
    return [d.body for d in Delivery.objects.order_by("id")]


def test_an_outage_under_a_drill_is_held_and_told_when_it_outlives_the_drill(
        watched, admin_user):
    channel(admin_user, "json://127.0.0.1:9/hook")
    drill = drill_of(watched, "eu-west-1")
    poll_everything_fine(watched)
    for _ in range(3):
        poll_health(watched, {"eu-west-1": False})
        evaluate()

    incident = Incident.objects.get(subject="eu-west-1")
    assert (incident.status, incident.was_suppressed) == ("open", True)
    assert incident.suppressed_by_drill_id == drill.pk
    assert incident.announced_at is None
    assert not Delivery.objects.exists()

    Drill.objects.filter(pk=drill.pk).update(status=DrillStatus.RESTORED,
                                             finished_at=timezone.now())
    evaluate()

    [body] = bodies()
    assert "PROBLEM: eu-west-1 is unhealthy" in body
    assert f"(Held during drill {drill.pk}, which has ended.)" in body


def test_a_drill_quiets_only_its_own_region(watched, admin_user):
    channel(admin_user, "json://127.0.0.1:9/hook")
    drill_of(watched, "eu-west-1")
    poll_everything_fine(watched)
    for _ in range(2):
        poll_health(watched, {"us-east-1": False})
        evaluate()
    [body] = bodies()
    assert "PROBLEM: us-east-1 is unhealthy" in body


def test_drains_restores_and_drills_are_told_once_each_but_a_drills_own_changes_are_not(
        watched, admin_user):
    channel(admin_user, "json://127.0.0.1:9/hook")
    eu = watched.regions.get(code="eu-west-1")
    now = timezone.now()
    TrafficChange.objects.create(application=watched, region=eu, from_state="serving",
                                 to_state="drained", reason="maintenance", actor_name="otto",
                                 source="web", status="applied", path="both", requested_at=now)
    TrafficChange.objects.create(application=watched, region=eu, from_state="serving",
                                 to_state="drained", reason="drill 1", actor_name="otto",
                                 source="drill", status="applied", path="both", requested_at=now)
    drill = drill_of(watched, "eu-west-1", drained_at=now)
    poll_everything_fine(watched)
    evaluate()
    evaluate()

    [body] = bodies()
    assert "eu-west-1 drained by otto through route 53 threshold and drain alarm: “maintenance”" \
        in body
    assert f"drill {drill.pk} drained eu-west-1 for 5 min (by otto)" in body
    assert body.count("drained by") == 1

    Drill.objects.filter(pk=drill.pk).update(
        status=DrillStatus.RESTORED, finished_at=timezone.now(),
        explanation="Drained and restored by itself.")
    evaluate()
    assert f"drill {drill.pk} of eu-west-1 restored: Drained and restored by itself." in \
        bodies()[-1]
    assert Delivery.objects.count() == 2


def test_an_application_can_turn_traffic_and_drill_notices_off(watched, admin_user):
    channel(admin_user, "json://127.0.0.1:9/hook")
    AlertRules.objects.create(application=watched, traffic_notices=False, drill_notices=False)
    eu = watched.regions.get(code="eu-west-1")
    TrafficChange.objects.create(application=watched, region=eu, from_state="serving",
                                 to_state="drained", actor_name="otto", source="web",
                                 status="applied", requested_at=timezone.now())
    drill_of(watched, "us-east-1", drained_at=timezone.now())
    poll_everything_fine(watched)
    evaluate()
    assert not Delivery.objects.exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_on_real_workers_an_outage_under_a_drill_reaches_the_receiver_only_after_it(
        watched, admin_user, receiver, celery_worker_factory):
    from alerts.tasks import evaluate_alerts

    channel(admin_user, receiver.url())
    drill = drill_of(watched, "eu-west-1")
    celery_worker_factory("polling,default")
    poll_everything_fine(watched)
    for _ in range(3):
        poll_health(watched, {"eu-west-1": False})
        evaluate_alerts.delay().get(timeout=30)

    assert Incident.objects.get(subject="eu-west-1").was_suppressed
    assert not Delivery.objects.exists()

    Drill.objects.filter(pk=drill.pk).update(status=DrillStatus.RESTORED,
                                             finished_at=timezone.now())
    evaluate_alerts.delay().get(timeout=30)

    [message] = receiver.wait_for(1)
    assert message["type"] == "failure"
    assert f"(Held during drill {drill.pk}, which has ended.)" in message["message"]


def test_a_routing_check_changed_outside_meridian_is_an_incident_until_it_agrees_again(
        watched, admin_user):
    from traffic.models import RoutingReading

    channel(admin_user, "json://127.0.0.1:9/hook")
    poll_everything_fine(watched)
    region = watched.regions.get(code="eu-west-1")
    reading = RoutingReading.objects.create(
        region=region, threshold=0, traffic="serving", read_at=timezone.now(),
        drift="changed outside Meridian: threshold 0 seen, 2 expected")
    evaluate()

    incident = Incident.objects.get(event="routing_drift")
    assert (incident.subject, incident.status) == ("eu-west-1", "open")
    [body] = bodies()
    assert ("eu-west-1's routing check changed outside Meridian: threshold 0 seen, 2 expected: "
            "Route 53 acts on the threshold it holds") in body

    RoutingReading.objects.filter(pk=reading.pk).update(threshold=2, drift="",
                                                        read_at=timezone.now())
    evaluate()
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert "eu-west-1's routing check agrees with its traffic state (serving) again" in bodies()[-1]
