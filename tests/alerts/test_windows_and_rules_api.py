"""Maintenance windows (operators) and alert rules (admins) over the API, and the history."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from alerts.evaluate import evaluate

from .conftest import poll_everything_fine, poll_health

pytestmark = pytest.mark.django_db


def test_an_operator_plans_a_window_for_some_regions(api_as, watched):
    api = api_as("operator")
    ends = (timezone.now() + timedelta(hours=2)).isoformat()
    response = api.post("/api/v1/maintenance-windows", {
        "application": "orders", "regions": ["eu-west-1"], "ends_at": ends,
        "reason": "replacing the table's KMS key"})
    assert response.status_code == 201, response.json()
    window = response.json()
    assert window["regions"] == ["eu-west-1"] and window["created_by"] == "otto"
    assert api.get("/api/v1/maintenance-windows?application=orders").json()[0]["id"] == window["id"]


def test_a_window_that_ends_before_it_starts_or_names_an_unknown_region_is_refused(api_as,
                                                                                    watched):
    api = api_as("operator")
    past = datetime(2020, 1, 1, tzinfo=UTC).isoformat()
    response = api.post("/api/v1/maintenance-windows", {
        "application": "orders", "ends_at": past, "reason": "x"})
    assert response.json()["errors"]["__all__"] == ["A maintenance window ends after it starts."]
    response = api.post("/api/v1/maintenance-windows", {
        "application": "orders", "regions": ["mars-1"],
        "ends_at": (timezone.now() + timedelta(hours=1)).isoformat(), "reason": "x"})
    assert response.json()["errors"]["regions"] == ["Unknown region: mars-1."]


def test_viewers_cannot_plan_windows(api_as, watched):
    response = api_as("viewer").post("/api/v1/maintenance-windows", {
        "application": "orders", "ends_at": timezone.now().isoformat(), "reason": "x"})
    assert response.status_code == 403


def test_an_admin_changes_the_rules_and_everyone_reads_them(api_as, watched):
    assert api_as("viewer").get("/api/v1/applications/orders/alert-rules").json() == {
        "unhealthy_polls": 2, "lag_threshold_ms": 10000, "lag_minutes": 5, "stale_intervals": 4,
        "traffic_notices": True, "drill_notices": True}
    response = api_as("admin").patch("/api/v1/applications/orders/alert-rules",
                                     {"unhealthy_polls": 1, "lag_minutes": 10})
    assert response.json()["unhealthy_polls"] == 1 and response.json()["lag_minutes"] == 10
    bad = api_as("admin").patch("/api/v1/applications/orders/alert-rules",
                                {"unhealthy_polls": 0})
    assert "unhealthy_polls" in bad.json()["errors"]
    assert api_as("operator").patch("/api/v1/applications/orders/alert-rules",
                                    {"unhealthy_polls": 3}).status_code == 403


def test_one_bad_poll_is_enough_when_the_rules_say_so(api_as, watched):
    api_as("admin").patch("/api/v1/applications/orders/alert-rules", {"unhealthy_polls": 1})
    poll_everything_fine(watched)
    poll_health(watched, {"us-east-1": False})
    evaluate()
    [incident] = api_as("viewer").get("/api/v1/alerts").json()
    assert incident["status"] == "open" and incident["subject"] == "us-east-1"
    assert incident["notices"][0]["kind"] == "opened"


def test_the_history_lists_every_delivery_attempt_with_its_result(api_as, watched, admin_user,
                                                                   dead_url):
    from alerts import delivery
    from alerts.models import Delivery

    from .conftest import channel

    channel(admin_user, dead_url)
    api_as("admin").patch("/api/v1/applications/orders/alert-rules", {"unhealthy_polls": 1})
    poll_everything_fine(watched)
    poll_health(watched, {"us-east-1": False})
    evaluate()
    with pytest.raises(Exception, match="Connection error"):
        delivery.attempt(Delivery.objects.get().pk)

    [incident] = api_as("viewer").get("/api/v1/alerts?status=open").json()
    [sent] = incident["notices"][0]["deliveries"]
    assert sent["channel"] == "ops" and sent["status"] == "retrying"
    assert sent["attempt_log"][0]["ok"] is False
    assert "Connection error" in sent["attempt_log"][0]["error"]
