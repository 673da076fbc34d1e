"""One evaluation at a time, in this process: stored state in, incidents and messages out."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.audit import Actor
from alerts import delivery, services
from alerts.evaluate import evaluate
from alerts.models import Channel, Delivery, Incident, Notice
from regions.services import create_application
from tests.conftest import APP_DATA

from .conftest import channel, poll_everything_fine, poll_health

pytestmark = pytest.mark.django_db


def send_all() -> None:
    for row in Delivery.objects.filter(status="queued").order_by("pk"):
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


def test_a_replica_losing_its_kms_key_is_told_with_dynamodbs_removal_countdown(
        watched, admin_user, receiver):
    from .conftest import poll_replicas

    channel(admin_user, receiver.url())
    poll_everything_fine(watched)
    for _ in range(2):
        poll_replicas(watched, {"eu-west-1": "INACCESSIBLE_ENCRYPTION_CREDENTIALS"})
        evaluate()
    send_all()
    [message] = receiver.messages()
    assert "replica in eu-west-1 is INACCESSIBLE_ENCRYPTION_CREDENTIALS" in message["message"]
    assert "DynamoDB removes a replica left in this state for 20 hours" in message["message"]


def test_a_failed_rollout_is_told_and_closed_by_the_next_one_that_succeeds(watched, admin_user,
                                                                           receiver):
    from deployer.models import Rollout, Status

    channel(admin_user, receiver.url(), events=["rollout_failed"])
    poll_everything_fine(watched)
    failed = Rollout.objects.create(application=watched, kind="deploy", status=Status.FAILED,
                                    finished_at=timezone.now(), explanation="eu-west-1 failed")
    evaluate()
    evaluate()
    send_all()
    [message] = receiver.messages()
    assert f"Rollout failed: rollout {failed.pk}" in message["title"]
    assert "deploy rollout" in message["message"] and "eu-west-1 failed" in message["message"]
    assert f"/rollouts/{failed.pk}/" in message["message"]

    Rollout.objects.create(application=watched, kind="deploy", status=Status.SUCCEEDED,
                           finished_at=timezone.now())
    evaluate()
    send_all()
    assert len(receiver.messages()) == 2  # the success notice is not this channel's event
    assert "a later rollout of orders succeeded" in receiver.messages()[1]["message"]


def test_a_succeeded_rollout_is_told_once(watched, admin_user, receiver):
    from deployer.models import Rollout, Status

    channel(admin_user, receiver.url())
    poll_everything_fine(watched)
    Rollout.objects.create(application=watched, kind="deploy", status=Status.SUCCEEDED,
                           finished_at=timezone.now())
    for _ in range(3):
        evaluate()
    send_all()
    [message] = receiver.messages()
    assert message["type"] == "info" and "succeeded" in message["message"]


def test_a_channel_only_hears_about_its_own_applications(watched, admin_user, receiver):
    channel(admin_user, receiver.url(), applications=["orders"])
    channel(admin_user, receiver.url("other"), name="other", applications=[])
    create_application({**APP_DATA, "slug": "billing", "table_name": "billing"},
                       Actor(admin_user, "cli"))
    services.update_channel(Channel.objects.get(name="ops"), {"applications": ["billing"]},
                            Actor(admin_user, "cli"))
    poll_everything_fine(watched)
    poll_health(watched, {"eu-west-1": False})
    evaluate()
    poll_health(watched, {"eu-west-1": False})
    evaluate()
    send_all()
    assert receiver.messages() == []
    assert len(receiver.messages("/other")) == 1


def test_a_region_removed_while_unhealthy_closes_its_incident(watched, admin_user, receiver):
    from regions.models import RegionState

    channel(admin_user, receiver.url())
    poll_everything_fine(watched)
    for _ in range(2):
        poll_health(watched, {"eu-west-1": False})
        evaluate()
    watched.regions.filter(code="eu-west-1").update(state=RegionState.REMOVED)
    evaluate()
    send_all()
    assert len(receiver.messages()) == 2
    assert "no longer watched" in receiver.messages()[1]["message"]


def test_secrets_of_a_failing_channel_are_neither_logged_nor_recorded(watched, admin_user,
                                                                     dead_url, caplog):
    secret_url = dead_url + "?token=V3ryS3cret"
    channel(admin_user, secret_url)
    poll_everything_fine(watched)
    for _ in range(2):
        poll_health(watched, {"eu-west-1": False})
        evaluate()
    with caplog.at_level("DEBUG"):
        with pytest.raises(Exception, match="Connection error"):
            delivery.attempt(Delivery.objects.get().pk)
    assert "V3ryS3cret" not in caplog.text
    assert "V3ryS3cret" not in Delivery.objects.get().last_error


def test_resolved_incidents_and_test_messages_are_forgotten_after_the_retention(
        watched, admin_user, receiver, settings):
    settings.ALERT_RETENTION_DAYS = 90
    row = channel(admin_user, receiver.url())
    poll_everything_fine(watched)
    for healthy in (False, False, True, True):
        poll_health(watched, {"eu-west-1": healthy})
        evaluate()
    services.test_channel(row, Actor(admin_user, "cli"), queue=False)
    assert (Incident.objects.count(), Delivery.objects.count()) == (1, 3)

    assert delivery.prune(timezone.now() + timedelta(days=89)) == {"incidents": 0,
                                                                   "deliveries": 0}
    delivery.prune(timezone.now() + timedelta(days=91))
    assert not Incident.objects.exists() and not Delivery.objects.exists()
