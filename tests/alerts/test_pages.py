"""The alert pages, as people see them."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.audit import Actor
from accounts.models import AuditEntry
from alerts import delivery, services
from alerts.evaluate import evaluate
from alerts.models import Channel, Delivery, MaintenanceWindow

from .conftest import channel, poll_everything_fine, poll_health

pytestmark = pytest.mark.django_db


def test_the_nav_leads_to_the_alert_history(client, viewer):
    client.force_login(viewer)
    assert 'href="/alerts/">Alerts</a>' in client.get("/").content.decode()


def test_the_history_shows_an_incident_its_message_and_each_attempt(client, viewer, watched,
                                                                    admin_user, receiver):
    channel(admin_user, receiver.url())
    services.update_rules(watched, {"unhealthy_polls": 1}, Actor(admin_user, "cli"))
    poll_everything_fine(watched)
    poll_health(watched, {"eu-west-1": False})
    evaluate()
    delivery.attempt(Delivery.objects.get().pk)
    client.force_login(viewer)
    page = client.get("/alerts/").content.decode()
    assert "Region unhealthy" in page and "eu-west-1 is unhealthy" in page
    assert 'data-status="open"' in page
    assert "attempt 1" in page and "sent in" in page


def test_a_problem_held_by_a_window_is_marked_suppressed_in_the_history(client, viewer, watched,
                                                                        admin_user):
    services.update_rules(watched, {"unhealthy_polls": 1}, Actor(admin_user, "cli"))
    services.create_window(watched, {"ends_at": timezone.now() + timedelta(hours=1),
                                     "reason": "region evacuation drill"},
                           Actor(admin_user, "cli"))
    poll_everything_fine(watched)
    poll_health(watched, {"eu-west-1": False})
    evaluate()
    client.force_login(viewer)
    page = client.get("/alerts/").content.decode()
    assert "Suppressed" in page and "maintenance: region evacuation drill" in page


def test_an_admin_adds_a_channel_and_the_page_never_shows_its_secret(client, admin_user):
    client.force_login(admin_user)
    response = client.post("/alerts/channels/new/", {
        "name": "team", "url": "json://hooks.example.com/p4ssw0rd", "enabled": "on"})
    assert response.status_code == 302
    page = client.get("/alerts/channels/").content.decode()
    assert "json://hooks.example.com/****" in page and "p4ssw0rd" not in page
    edit = client.get(f"/alerts/channels/{Channel.objects.get().pk}/edit/").content.decode()
    assert "p4ssw0rd" not in edit


def test_saving_a_channel_with_an_empty_url_keeps_the_one_it_had(client, admin_user):
    row = channel(admin_user, "json://hooks.example.com/p4ssw0rd", name="team")
    client.force_login(admin_user)
    client.post(f"/alerts/channels/{row.pk}/edit/", {"name": "team2", "url": ""})
    row.refresh_from_db()
    assert (row.name, row.url, row.enabled) == ("team2", "json://hooks.example.com/p4ssw0rd",
                                                False)


def test_the_test_button_shows_the_result_that_updates_itself_until_the_message_is_out(
        client, admin_user, receiver):
    row = channel(admin_user, receiver.url(), name="team")
    client.force_login(admin_user)
    page = client.post(f"/alerts/channels/{row.pk}/test/", follow=True).content.decode()
    assert "Test message to <strong>team</strong>" in page and 'hx-trigger="every 1s"' in page
    test = Delivery.objects.get()
    delivery.attempt(test.pk)
    fragment = client.get(f"/alerts/deliveries/{test.pk}/").content.decode()
    assert "delivered in" in fragment and "hx-trigger" not in fragment
    assert receiver.messages()[0]["title"] == "[Meridian] Test message"
    assert AuditEntry.objects.filter(action="channel.test").exists()


def test_channels_are_for_admins_only(client, operator):
    client.force_login(operator)
    assert client.get("/alerts/channels/").status_code == 403
    assert client.post("/alerts/channels/new/", {"name": "x"}).status_code == 403


def test_an_operator_plans_and_ends_a_window_from_the_page(client, operator, watched):
    client.force_login(operator)
    now = timezone.now()
    response = client.post("/alerts/maintenance/new/", {
        "application": "orders", "regions": "eu-west-1", "reason": "patching",
        "starts_at": (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 302
    page = client.get("/alerts/maintenance/").content.decode()
    assert "patching" in page and "in progress" in page
    window = MaintenanceWindow.objects.get()
    client.post(f"/alerts/maintenance/{window.pk}/end/")
    window.refresh_from_db()
    assert window.ends_at <= timezone.now()


def test_an_admin_edits_the_rules_of_an_application(client, admin_user, watched):
    client.force_login(admin_user)
    response = client.post("/alerts/rules/orders/", {
        "unhealthy_polls": 3, "lag_threshold_ms": 5000, "lag_minutes": 2, "stale_intervals": 6})
    assert response.status_code == 302
    page = client.get("/alerts/rules/").content.decode()
    assert "3 polls" in page and "5000 ms for 2 min" in page
