"""One evaluation at a time, in this process: stored state in, incidents and messages out."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts import delivery
from alerts.evaluate import evaluate
from alerts.models import Delivery, Incident, Notice

from .conftest import channel, poll_everything_fine, poll_health

pytestmark = pytest.mark.django_db


def send_all() -> None:
    for row in Delivery.objects.filter(status="queued"):
        delivery.attempt(row.pk)


def test_an_outage_is_told_once_after_two_polls_and_its_recovery_once(watched, admin_user,
                                                                      receiver):
    channel(admin_user, receiver.url())
    poll_everything_fine(watched)
    evaluate()
    poll_health(watched, {"eu-west-1": False})
    evaluate()
    assert Incident.objects.get().status == "pending"
    poll_health(watched, {"eu-west-1": False})
    evaluate()
    evaluate()  # a second evaluation of the same poll changes nothing
    send_all()

    [message] = receiver.messages()
    assert message["type"] == "failure"
    assert "Orders API (orders)" in message["title"]
    assert "eu-west-1 is unhealthy" in message["message"]
    assert "http://localhost:8000/applications/orders/regions/eu-west-1/" in message["message"]

    poll_health(watched, {})
    evaluate()
    poll_health(watched, {})
    evaluate()
    send_all()
    assert len(receiver.messages()) == 2
    recovery = receiver.messages()[1]
    assert recovery["type"] == "success"
    assert "RECOVERED: eu-west-1 is healthy again" in recovery["message"]
    assert Notice.objects.count() == 2


def test_an_unhealthy_poll_followed_by_a_healthy_one_sends_nothing(watched, admin_user,
                                                                    receiver):
    channel(admin_user, receiver.url())
    poll_everything_fine(watched)
    poll_health(watched, {"eu-west-1": False})
    evaluate()
    poll_health(watched, {})
    evaluate()
    send_all()
    assert receiver.messages() == []
    assert not Incident.objects.exists()


def test_a_poll_source_silent_for_four_intervals_is_told_as_no_data(watched, admin_user,
                                                                    receiver):
    channel(admin_user, receiver.url())
    poll_everything_fine(watched, timezone.now() - timedelta(minutes=3))
    evaluate()
    send_all()
    [message] = receiver.messages()
    assert "no successful read of Route 53 health since" in message["message"]
