"""Adding and removing regions over the API."""

import pytest

from accounts.audit import Actor
from accounts.models import AuditEntry
from regions.models import Region, RegionState
from regions.services import add_region

from .conftest import counts

REGIONS = "/api/v1/applications/orders/regions"


@pytest.fixture
def operator_api(api_as):
    return api_as("operator")


def test_it_adds_a_planned_replica(operator_api, application, operator):
    response = operator_api.post(REGIONS, {"code": "eu-west-1"}, headers={})
    assert response.status_code == 201
    body = response.json()
    assert body["code"] == "eu-west-1"
    assert body["role"] == "replica"
    assert body["state"] == "planned"
    assert body["stack_name"] == "orders-eu-west-1"
    assert set(body) == {"code", "role", "state", "stack_name", "health_check_id", "api_url",
                         "rest_api_id", "outputs", "created_at", "updated_at",
                         "state_changed_at", "traffic", "traffic_changed_at"}
    assert (body["traffic"], body["traffic_changed_at"]) == ("serving", None)
    entry = AuditEntry.objects.get(action="region.add", object_repr="orders/eu-west-1")
    assert (entry.source, entry.actor, entry.remote_addr) == ("api", operator, "127.0.0.1")


@pytest.mark.parametrize("code", ["US-EAST-1", "us-east-10", "eu-west-1 ", "mars-1", "", " "])
def test_it_refuses_a_region_code_that_is_not_an_aws_region(operator_api, application, code):
    before = counts()
    response = operator_api.post(REGIONS, {"code": code})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["code"]
    assert counts() == before


def test_it_refuses_a_region_that_is_already_in_the_inventory(operator_api, application):
    assert operator_api.post(REGIONS, {"code": "eu-west-1"}).status_code == 201
    before = counts()
    response = operator_api.post(REGIONS, {"code": "eu-west-1"})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "code": ["eu-west-1 is already in the inventory of orders (planned)."]}
    assert counts() == before


def test_it_refuses_to_remove_the_main_region_while_replicas_exist(
    operator_api, application, replica
):
    before = counts()
    response = operator_api.delete(f"{REGIONS}/us-east-1")
    assert response.status_code == 400
    assert response.json()["errors"] == {"code": [
        "The main region us-east-1 cannot be removed while replicas exist (eu-west-1). "
        "Remove them first."]}
    assert counts() == before


def test_it_deletes_a_planned_region_outright_with_204(operator_api, application, replica):
    response = operator_api.delete(f"{REGIONS}/eu-west-1")
    assert response.status_code == 204
    assert response.content == b""
    assert not Region.objects.filter(code="eu-west-1").exists()
    assert AuditEntry.objects.get(action="region.remove").source == "api"


def test_it_marks_a_deployed_region_removing_with_200(operator_api, application, replica):
    Region.objects.filter(pk=replica.pk).update(state=RegionState.ACTIVE)
    response = operator_api.delete(f"{REGIONS}/eu-west-1")
    assert response.status_code == 200
    assert response.json()["state"] == "removing"
    replica.refresh_from_db()
    assert replica.state == RegionState.REMOVING
    entry = AuditEntry.objects.get(action="region.remove")
    assert (entry.source, entry.before["state"], entry.after["state"]) == (
        "api", "active", "removing")


def test_it_answers_404_for_a_region_the_application_does_not_have(operator_api, application):
    for method in ("GET", "DELETE"):
        response = operator_api.call(method, f"{REGIONS}/ap-south-1")
        assert response.status_code == 404
        assert response.json()["errors"]["__all__"] == [
            "'ap-south-1' is not a region of orders."]


def test_it_answers_404_for_an_unknown_application(operator_api, application):
    for method, url, body in [("GET", "/api/v1/applications/nope/regions", None),
                              ("POST", "/api/v1/applications/nope/regions",
                               {"code": "eu-west-1"}),
                              ("GET", "/api/v1/applications/nope/regions/us-east-1", None)]:
        response = operator_api.call(method, url, body)
        assert response.status_code == 404
        assert response.json() == {"errors": {"__all__": ["There is no application 'nope'."]}}


def test_it_lists_the_main_region_first(api_as, application, admin_user):
    add_region(application, "ap-southeast-2", Actor(admin_user, "cli"))
    add_region(application, "eu-west-1", Actor(admin_user, "cli"))
    response = api_as("viewer").get(REGIONS)
    assert [(r["code"], r["role"]) for r in response.json()] == [
        ("us-east-1", "main"), ("ap-southeast-2", "replica"), ("eu-west-1", "replica")]


def test_it_adds_a_region_the_account_has_enabled_when_asked_to_check(
    aws, operator_api, application
):
    response = operator_api.post(f"{REGIONS}?check_enabled=true", {"code": "eu-west-1"})
    assert response.status_code == 201, response.content


def test_it_refuses_an_opt_in_region_the_account_has_not_enabled(
    aws, operator_api, application
):
    before = counts()
    response = operator_api.post(f"{REGIONS}?check_enabled=true", {"code": "ap-east-2"})
    assert response.status_code == 400
    [message] = response.json()["errors"]["code"]
    assert message.startswith("ap-east-2 is not enabled for this AWS account.")
    assert counts() == before


def test_it_adds_an_opt_in_region_without_asking_aws_when_not_asked_to(
    operator_api, application
):
    response = operator_api.post(REGIONS, {"code": "ap-east-2"})
    assert response.status_code == 201


def test_it_refuses_a_check_enabled_value_that_is_not_a_boolean(operator_api, application):
    response = operator_api.post(f"{REGIONS}?check_enabled=perhaps", {"code": "eu-west-1"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["check_enabled"]
