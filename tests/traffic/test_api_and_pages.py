"""The traffic endpoint, the region API's traffic field, and the region page's buttons with
their confirmation page."""

import pytest
from django.test import Client

from regions.models import Traffic
from tests.api.conftest import Api

from .conftest import set_health, threshold_of

pytestmark = pytest.mark.django_db
URL = "/api/v1/applications/orders/regions/{}/traffic"


def test_an_operator_drains_and_restores_over_the_api(routed, operator):
    api = Api(operator)
    answer = api.post(URL.format("eu-west-1"), {"state": "drained", "reason": "patching"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["region"], body["from_state"], body["to_state"], body["status"], body["path"]) == (
        "eu-west-1", "serving", "drained", "applied", "both")
    assert body["actor"] == operator.username and body["reason"] == "patching"
    region = api.get("/api/v1/applications/orders/regions/eu-west-1").json()
    assert region["traffic"] == "drained"
    status = {r["code"]: r["traffic"] for r in api.get("/api/v1/applications/orders/status")
              .json()["regions"]}
    assert status == {"us-east-1": "serving", "eu-west-1": "drained", "ap-southeast-2": "serving"}

    assert api.post(URL.format("eu-west-1"), {"state": "serving"}).json()["status"] == "applied"
    assert threshold_of(routed["eu-west-1"]) == 2
    changes = api.get("/api/v1/applications/orders/traffic/changes").json()
    assert [(c["from_state"], c["to_state"]) for c in changes] == [
        ("drained", "serving"), ("serving", "drained")]


def test_draining_down_to_the_last_serving_region_is_refused_with_409(routed, operator):
    api = Api(operator)
    assert api.post(URL.format("eu-west-1"), {"state": "drained"}).status_code == 200
    assert api.post(URL.format("ap-southeast-2"), {"state": "drained"}).status_code == 200

    answer = api.post(URL.format("us-east-1"), {"state": "drained"})

    assert answer.status_code == 409
    assert answer.json()["errors"]["__all__"] == [
        "Draining us-east-1 would leave 0 regions serving and healthy (none); this application "
        "needs at least 1 (min_serving). ap-southeast-2 is drained; eu-west-1 is drained."]


def test_forcing_needs_an_admin_and_viewers_change_nothing(routed, operator, viewer, admin_user):
    assert Api(operator).post(URL.format("eu-west-1"), {"state": "forced"}).status_code == 403
    assert Api(viewer).post(URL.format("eu-west-1"), {"state": "drained"}).status_code == 403
    assert Api(admin_user).post(URL.format("eu-west-1"), {"state": "forced"}).status_code == 200
    assert threshold_of(routed["eu-west-1"]) == 0


def test_an_unknown_state_or_region_is_a_clear_error(routed, operator):
    api = Api(operator)
    assert api.post(URL.format("eu-west-1"), {"state": "off"}).status_code == 400
    answer = api.post(URL.format("sa-east-1"), {"state": "drained"})
    assert answer.status_code == 400
    assert answer.json()["errors"]["__all__"] == ["sa-east-1 is not a region of orders."]


def test_the_region_page_offers_drain_and_the_confirmation_says_where_clients_go(
        routed, operator):
    client = Client()
    client.force_login(operator)
    page = client.get("/applications/orders/regions/eu-west-1/").content.decode()
    assert "Traffic:" in page and "Drain…" in page and "Force serving…" not in page

    confirm = client.get("/applications/orders/regions/eu-west-1/traffic/drain/")
    assert confirm.status_code == 200
    rows = [(r["client"], r["before"], r["after"]) for r in confirm.context["rows"]]
    # Clients near eu-west-1 go to the nearest serving region: us-east-1, not Sydney.
    assert ("eu-west-1", "eu-west-1", "us-east-1") in rows
    assert ("ap-southeast-2", "ap-southeast-2", "ap-southeast-2") in rows

    done = client.post("/applications/orders/regions/eu-west-1/traffic/drain/",
                       {"reason": "from the page"}, follow=True)
    assert "eu-west-1 is drained: Route 53 updated" in done.content.decode()
    routed["eu-west-1"].refresh_from_db()
    assert routed["eu-west-1"].traffic == Traffic.DRAINED


def test_the_confirmation_page_says_why_the_guard_refuses(routed, operator):
    set_health(routed["ap-southeast-2"], False)
    set_health(routed["us-east-1"], False)
    client = Client()
    client.force_login(operator)
    page = client.get("/applications/orders/regions/eu-west-1/traffic/drain/")
    assert page.status_code == 409
    assert "Refused:" in page.content.decode()
    assert "us-east-1 is unhealthy" in page.content.decode()


def test_viewers_see_the_state_but_no_buttons(routed, viewer):
    client = Client()
    client.force_login(viewer)
    page = client.get("/applications/orders/regions/eu-west-1/").content.decode()
    assert "Traffic:" in page and "Drain…" not in page
    assert client.get("/applications/orders/regions/eu-west-1/traffic/drain/").status_code == 403


def test_a_region_not_deployed_yet_says_so_instead_of_a_traffic_state(application, operator):
    client = Client()
    client.force_login(operator)
    page = client.get("/applications/orders/regions/us-east-1/").content.decode()
    assert "Not deployed: its traffic can be drained and restored once a deploy" in page
    assert "Traffic:" not in page and "Drain…" not in page
