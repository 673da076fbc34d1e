"""Creating, reading, changing and deleting applications over the API."""

from accounts.models import AuditEntry
from regions.models import Application, Region, RegionState

from .conftest import VALID_APP, counts

APPS = "/api/v1/applications"


def test_it_creates_an_application_with_its_main_region(admin_api, admin_user, db):
    response = admin_api.post(APPS, VALID_APP)
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in VALID_APP} == VALID_APP
    assert body["stage"] == "prod"
    assert body["source"] == "reference"
    assert body["health_check_interval"] == 30
    assert body["failure_threshold"] == 3
    assert [(r["code"], r["role"], r["state"]) for r in body["regions"]] == [
        ("eu-west-1", "main", "planned")]
    app = Application.objects.get(slug="billing")
    assert app.regions.get().code == "eu-west-1"
    entries = AuditEntry.objects.filter(application_slug="billing").order_by("id")
    assert [(e.action, e.source, e.actor, e.remote_addr) for e in entries] == [
        ("application.create", "api", admin_user, "127.0.0.1"),
        ("region.add", "api", admin_user, "127.0.0.1"),
    ]


def test_it_records_the_client_address_of_the_request(admin_api, db):
    admin_api.client.defaults["REMOTE_ADDR"] = "203.0.113.9"
    assert admin_api.post(APPS, VALID_APP).status_code == 201
    assert set(AuditEntry.objects.values_list("remote_addr", flat=True)) == {"203.0.113.9"}


def test_it_lists_applications_without_their_regions(api_as, application):
    response = api_as("viewer").get(APPS)
    assert response.status_code == 200
    [app] = response.json()
    assert app["slug"] == "orders"
    assert "regions" not in app
    assert {"created_at", "updated_at"} <= set(app)


def test_it_shows_an_application_with_its_regions(api_as, application, replica):
    response = api_as("viewer").get(f"{APPS}/orders")
    assert response.status_code == 200
    body = response.json()
    assert body["main_region"] == "us-east-1"
    assert [r["code"] for r in body["regions"]] == ["us-east-1", "eu-west-1"]


def test_it_answers_404_in_the_error_shape_for_an_unknown_slug(admin_api, application):
    for method, body in (("GET", None), ("PATCH", {"name": "x"}), ("DELETE", None)):
        before = counts()
        response = admin_api.call(method, f"{APPS}/nope", body)
        assert response.status_code == 404
        assert response.json() == {"errors": {"__all__": ["There is no application 'nope'."]}}
        assert counts() == before


def test_it_changes_only_the_fields_sent_and_audits_them(admin_api, application):
    response = admin_api.patch(f"{APPS}/orders", {"name": "Orders v2", "failure_threshold": 5})
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["failure_threshold"]) == ("Orders v2", 5)
    application.refresh_from_db()
    assert (application.name, application.failure_threshold, application.stage) == (
        "Orders v2", 5, "prod")
    entry = AuditEntry.objects.get(action="application.update")
    assert entry.source == "api"
    assert entry.before == {"name": "Orders API", "failure_threshold": 3}
    assert entry.after == {"name": "Orders v2", "failure_threshold": 5}


def test_it_moves_the_main_region_before_any_deploy(admin_api, application):
    response = admin_api.patch(f"{APPS}/orders", {"main_region": "eu-west-1"})
    assert response.status_code == 200
    roles = {r["code"]: r["role"] for r in response.json()["regions"]}
    assert roles == {"us-east-1": "replica", "eu-west-1": "main"}


def test_it_refuses_to_move_the_main_region_once_deployed(admin_api, application):
    Region.objects.filter(code="us-east-1").update(state=RegionState.ACTIVE)
    before = counts()
    response = admin_api.patch(f"{APPS}/orders", {"main_region": "eu-west-1"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["main_region"]
    assert counts() == before


def test_it_deletes_an_application_with_only_planned_regions(admin_api, application):
    response = admin_api.delete(f"{APPS}/orders")
    assert response.status_code == 204
    assert not Application.objects.exists()
    entry = AuditEntry.objects.get(action="application.delete")
    assert (entry.source, entry.application_slug, entry.before["slug"]) == ("api", "orders", "orders")


def test_it_refuses_to_delete_an_application_with_deployed_regions(admin_api, application):
    Region.objects.filter(code="us-east-1").update(state=RegionState.ACTIVE)
    before = counts()
    response = admin_api.delete(f"{APPS}/orders")
    assert response.status_code == 400
    assert "still has deployed regions" in response.json()["errors"]["__all__"][0]
    assert counts() == before

