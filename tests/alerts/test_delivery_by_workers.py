"""Real Celery workers (evaluation on "polling", delivery on "default") and a real HTTP receiver:
what reaches people, and what is recorded when it does not."""

import time

import pytest

from alerts.models import Delivery, DeliveryAttempt
from alerts.tasks import deliver_alert, evaluate_alerts
from controlplane.celery import app

from .conftest import channel, poll_everything_fine, poll_health

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FAST_RETRIES = {"ALERT_DELIVERY_RETRIES": 2, "ALERT_RETRY_BACKOFF": 1,
                "ALERT_RETRY_BACKOFF_MAX": 2, "ALERT_SEND_TIMEOUT": 2}


def wait_until(check, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    return check()


def evaluated(n: int = 1):
    """Run `n` evaluations on the polling worker, one after the other."""
    for _ in range(n):
        evaluate_alerts.apply_async().get(timeout=30)


def test_evaluation_runs_on_the_polling_queue_and_delivery_on_the_default_queue():
    assert app.amqp.router.route({}, evaluate_alerts.name)["queue"].name == "polling"
    assert app.amqp.router.route({}, deliver_alert.name)["queue"].name == "default"


def test_an_outage_reaches_the_receiver_once_and_its_recovery_once(
        watched, admin_user, receiver, celery_worker_factory):
    celery_worker_factory("polling,default")
    channel(admin_user, receiver.url())
    poll_everything_fine(watched)
    evaluated()

    poll_health(watched, {"eu-west-1": False})
    evaluated()
    poll_health(watched, {"eu-west-1": False})
    evaluated(2)
    [problem] = receiver.wait_for(1)
    assert problem["type"] == "failure"
    assert "PROBLEM: eu-west-1 is unhealthy" in problem["message"]

    poll_health(watched, {})
    evaluated()
    poll_health(watched, {})
    evaluated(2)
    messages = receiver.wait_for(2)
    time.sleep(1)  # nothing more arrives
    assert len(receiver.messages()) == 2
    assert messages[1]["type"] == "success"
    assert "RECOVERED: eu-west-1 is healthy again" in messages[1]["message"]


def test_a_dead_receiver_is_retried_then_recorded_failed_while_the_other_channel_gets_it_at_once(
        watched, admin_user, receiver, dead_url, celery_worker_factory):
    celery_worker_factory("polling,default", **FAST_RETRIES)
    channel(admin_user, dead_url, name="dead")
    channel(admin_user, receiver.url(), name="live")
    poll_everything_fine(watched)
    poll_health(watched, {"us-east-1": False})
    evaluated()
    poll_health(watched, {"us-east-1": False})
    evaluated()

    assert len(receiver.wait_for(1, timeout=10)) == 1
    dead = Delivery.objects.get(channel_name="dead")
    live = wait_until(lambda: Delivery.objects.filter(channel_name="live", status="sent").first())
    assert live.attempts == 1
    assert wait_until(lambda: Delivery.objects.get(pk=dead.pk).status == "failed", 60)
    attempts = list(DeliveryAttempt.objects.filter(delivery=dead).order_by("number"))
    assert [a.number for a in attempts] == [1, 2, 3]
    assert not any(a.ok for a in attempts)
    assert "Connection error" in attempts[-1].error
    assert "/dead" not in attempts[-1].error


def test_a_message_queued_while_no_worker_listened_is_sent_when_one_comes(
        watched, admin_user, receiver, celery_worker_factory):
    from alerts.evaluate import evaluate

    channel(admin_user, receiver.url())
    poll_everything_fine(watched)
    poll_health(watched, {"eu-west-1": False})
    evaluate()
    poll_health(watched, {"eu-west-1": False})
    evaluate()
    assert Delivery.objects.get().status == "queued"

    celery_worker_factory("polling,default")
    [message] = receiver.wait_for(1)
    assert "eu-west-1 is unhealthy" in message["message"]


def test_replication_lag_above_the_threshold_for_five_minutes_reaches_the_receiver(
        watched, admin_user, receiver, celery_worker_factory):
    from .conftest import poll_lag

    celery_worker_factory("polling,default")
    channel(admin_user, receiver.url())
    poll_everything_fine(watched)
    poll_lag(watched, "us-east-1", "eu-west-1", [900, 45_000, 46_000, 44_000, 47_000, 45_500])
    evaluated()

    [message] = receiver.wait_for(1)
    assert "Replication lag: us-east-1 → eu-west-1" in message["title"]
    assert "replication us-east-1 → eu-west-1 lags above 10.0 s (now 45.5 s)" in message["message"]
    assert "http://localhost:8000/watch/orders/" in message["message"]


def test_a_maintenance_window_keeps_silent_then_the_problem_that_outlives_it_is_told(
        watched, admin_user, receiver, celery_worker_factory):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.audit import Actor
    from alerts import services
    from alerts.models import Incident

    celery_worker_factory("polling,default")
    channel(admin_user, receiver.url())
    window = services.create_window(
        watched, {"regions": ["eu-west-1"], "ends_at": timezone.now() + timedelta(hours=1),
                  "reason": "kernel upgrade"}, Actor(admin_user, "cli"))
    poll_everything_fine(watched)
    for _ in range(3):
        poll_health(watched, {"eu-west-1": False})
        evaluated()
    time.sleep(1)
    assert receiver.messages() == []
    incident = Incident.objects.get()
    assert incident.status == "open" and incident.was_suppressed

    services.end_window(window, Actor(admin_user, "cli"))
    poll_health(watched, {"eu-west-1": False})
    evaluated()
    [message] = receiver.wait_for(1)
    assert "eu-west-1 is unhealthy" in message["message"]
    assert "Held during a maintenance window" in message["message"]
