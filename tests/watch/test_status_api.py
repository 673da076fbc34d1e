"""GET /api/v1/applications/{slug}/status."""

import pytest

from accounts.models import ApiToken
from watch import pollers

from .conftest import create_table, deploy_regions, minute, publish_health, publish_lag

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(watch_aws, application, admin_user):
    regions = deploy_regions(application, ["us-east-1", "eu-west-1"], admin_user)
    create_table(application)
    return application, {r.code: r for r in regions}


def test_it_reports_health_since_and_lag_with_null_for_no_data(client, viewer, orders):
    application, regions = orders
    publish_health(regions["us-east-1"].health_check_id, minute(-3), healthy=True, percentage=100)
    publish_health(regions["us-east-1"].health_check_id, minute(-2), healthy=False, percentage=6)
    publish_lag("orders", "us-east-1", "eu-west-1", minute(-1), 1300)
    pollers.poll_cycle()
    _, key = ApiToken.issue(viewer, "dashboards")

    response = client.get("/api/v1/applications/orders/status",
                          HTTP_AUTHORIZATION=f"Bearer {key}")

    assert response.status_code == 200
    body = response.json()
    by_code = {r["code"]: r for r in body["regions"]}
    assert by_code["us-east-1"]["health"] == "unhealthy"
    assert by_code["us-east-1"]["percentage_healthy"] == 6.0
    assert by_code["us-east-1"]["since"].startswith(minute(-2).strftime("%Y-%m-%dT%H:%M"))
    assert by_code["us-east-1"]["stale"] is False
    assert by_code["eu-west-1"]["health"] == "nodata" and by_code["eu-west-1"]["since"] is None
    pairs = {(p["source"], p["receiving"]): p for p in body["pairs"]}
    assert pairs[("us-east-1", "eu-west-1")]["latency_ms"] == 1300.0
    assert pairs[("us-east-1", "eu-west-1")]["at"].startswith(minute(-1).strftime("%Y-%m-%dT%H:%M"))
    assert pairs[("eu-west-1", "us-east-1")]["latency_ms"] is None
    assert pairs[("eu-west-1", "us-east-1")]["at"] is None
    assert body["stale_sources"] == []


def test_it_flags_stale_regions_with_the_reason(client, viewer, orders, unreachable):
    unreachable.add(region="us-east-1")
    pollers.poll_cycle()
    client.force_login(viewer)

    body = client.get("/api/v1/applications/orders/status").json()

    assert all(r["stale"] and "cannot reach" in r["stale_reason"] for r in body["regions"])
    assert {s["source"] for s in body["stale_sources"]} >= {"Route 53 health"}


def test_it_answers_401_without_credentials_and_404_for_an_unknown_application(client, viewer,
                                                                               orders):
    assert client.get("/api/v1/applications/orders/status").status_code == 401
    client.force_login(viewer)
    assert client.get("/api/v1/applications/nope/status").status_code == 404
