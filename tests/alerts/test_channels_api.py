"""Channels over the API: admins manage them; URLs go in and never come back out in full."""

import pytest

from accounts.models import AuditEntry
from alerts.models import Channel, Delivery

pytestmark = pytest.mark.django_db

SECRET = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#ops"


def test_an_admin_adds_a_channel_and_sees_it_back_with_its_url_masked(admin_api, application):
    response = admin_api.post("/api/v1/channels", {
        "name": "ops-slack", "url": SECRET, "applications": ["orders"],
        "events": ["region_unhealthy", "rollout_failed"]})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["url"] == "slack://****/****"
    assert body["applications"] == ["orders"]
    assert body["events"] == ["region_unhealthy", "rollout_failed"]
    listed = admin_api.get("/api/v1/channels").json()
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in str(listed)
    assert Channel.objects.get().url == SECRET


def test_the_audit_trail_records_the_change_with_the_masked_url_only(admin_api):
    admin_api.post("/api/v1/channels", {"name": "hook", "url": "json://hooks.example.com/s3cr3t"})
    entry = AuditEntry.objects.get(action="channel.create")
    assert entry.after["url"] == "json://hooks.example.com/****"
    assert "s3cr3t" not in str(entry.after) + entry.object_repr


def test_a_url_apprise_cannot_use_is_refused_with_a_reason(admin_api):
    response = admin_api.post("/api/v1/channels", {"name": "x", "url": "nosuch://host/path"})
    assert response.status_code == 400
    assert "apprise does not know how to send to a nosuch:// URL" in response.json()["errors"]["url"][0]


def test_unknown_applications_and_events_are_refused(admin_api, application):
    response = admin_api.post("/api/v1/channels", {
        "name": "x", "url": "json://127.0.0.1:9/x", "applications": ["nope"]})
    assert response.json()["errors"]["applications"] == ["Unknown application: nope."]
    response = admin_api.post("/api/v1/channels", {
        "name": "x", "url": "json://127.0.0.1:9/x", "events": ["bad"]})
    assert response.status_code == 400 and "events" in str(response.json()["errors"])


def test_a_patch_without_a_url_keeps_the_secret_and_a_delete_removes_the_channel(admin_api):
    pk = admin_api.post("/api/v1/channels", {"name": "a", "url": "json://h.example.com/t"}).json()["id"]
    response = admin_api.patch(f"/api/v1/channels/{pk}", {"name": "b", "enabled": False})
    assert response.json()["name"] == "b" and response.json()["enabled"] is False
    assert Channel.objects.get().url == "json://h.example.com/t"
    assert admin_api.delete(f"/api/v1/channels/{pk}").status_code == 204
    assert not Channel.objects.exists()


def test_the_test_endpoint_queues_a_test_message_whose_result_can_be_read(admin_api):
    pk = admin_api.post("/api/v1/channels", {"name": "a", "url": "json://127.0.0.1:9/x"}).json()["id"]
    response = admin_api.post(f"/api/v1/channels/{pk}/test")
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    delivery = Delivery.objects.get()
    assert delivery.is_test
    assert admin_api.get(f"/api/v1/alerts/deliveries/{delivery.pk}").json()["channel"] == "a"


def test_operators_and_viewers_cannot_see_or_change_channels(api_as):
    for role in ("viewer", "operator"):
        api = api_as(role)
        assert api.get("/api/v1/channels").status_code == 403
        assert api.post("/api/v1/channels", {"name": "x", "url": "json://h/x"}).status_code == 403
