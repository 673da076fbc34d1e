"""Every endpoint against every role, with a bearer token and with a browser session."""

import pytest
from django.test import Client, RequestFactory
from ninja.errors import AuthorizationError

from accounts.auth import SessionAuth
from regions.models import Application, Region

from .conftest import ROLE_FIXTURES, VALID_APP, counts

# (method, url, body, least role, status when allowed)
ENDPOINTS = [
    ("GET", "/api/v1/applications", None, "viewer", 200),
    ("POST", "/api/v1/applications", VALID_APP, "admin", 201),
    ("GET", "/api/v1/applications/orders", None, "viewer", 200),
    ("PATCH", "/api/v1/applications/orders", {"name": "Orders v2"}, "admin", 200),
    ("DELETE", "/api/v1/applications/orders", None, "admin", 204),
    ("GET", "/api/v1/applications/orders/regions", None, "viewer", 200),
    ("POST", "/api/v1/applications/orders/regions", {"code": "ap-southeast-2"}, "operator", 201),
    ("GET", "/api/v1/applications/orders/regions/eu-west-1", None, "viewer", 200),
    ("DELETE", "/api/v1/applications/orders/regions/eu-west-1", None, "operator", 204),
    ("GET", "/api/v1/audit", None, "viewer", 200),
]
MUTATIONS = [e for e in ENDPOINTS if e[0] != "GET"]
RANK = {"nobody": 0, "viewer": 1, "operator": 2, "admin": 3}
IDS = [f"{method} {url}" for method, url, *_ in ENDPOINTS]


def state() -> tuple:
    """Everything a mutation could change, to prove a refused one changed nothing."""
    apps = list(Application.objects.values_list("slug", "name").order_by("slug"))
    regions = list(Region.objects.values_list("code", "state").order_by("code"))
    return counts(), apps, regions


@pytest.mark.parametrize("method,url,body,least,allowed", ENDPOINTS, ids=IDS)
def test_it_returns_401_with_a_bearer_challenge_for_anonymous_requests(
    api_as, replica, method, url, body, least, allowed
):
    before = state()
    response = api_as(None).call(method, url, body)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["errors"]["__all__"]
    assert state() == before


@pytest.mark.parametrize("mode", ["bearer", "session"])
@pytest.mark.parametrize("role", ["nobody", "viewer", "operator", "admin"])
@pytest.mark.parametrize("method,url,body,least,allowed", ENDPOINTS, ids=IDS)
def test_it_allows_each_endpoint_only_from_its_least_role_up(
    api_as, replica, method, url, body, least, allowed, role, mode
):
    before = state()
    response = api_as(role, mode).call(method, url, body)
    if RANK[role] >= RANK[least]:
        assert response.status_code == allowed, response.content
        if method != "GET":
            assert state() != before
    else:
        assert response.status_code == 403, response.content
        assert response.json()["errors"]["__all__"]
        assert state() == before


@pytest.mark.parametrize("method,url,body,least,allowed", MUTATIONS,
                         ids=[f"{m} {u}" for m, u, *_ in MUTATIONS])
def test_it_refuses_a_session_mutation_without_the_csrf_token(
    api_as, replica, method, url, body, least, allowed
):
    before = state()
    response = api_as("admin", "session-no-csrf").call(method, url, body)
    assert response.status_code == 403
    assert "CSRF" in response.json()["errors"]["__all__"][0]
    assert state() == before


def test_it_reads_with_a_session_without_a_csrf_token(api_as, application):
    response = api_as("viewer", "session-no-csrf").get("/api/v1/applications")
    assert response.status_code == 200
    assert [app["slug"] for app in response.json()] == ["orders"]


def test_it_does_not_fall_back_to_the_session_when_the_bearer_token_is_wrong(
    api_as, application
):
    session = api_as("admin", "session")
    response = session.get("/api/v1/applications",
                           headers={"Authorization": "Bearer mrd_not-a-real-token"})
    assert response.status_code == 401


def test_it_returns_401_for_an_authorization_header_that_is_not_bearer(api_as, application):
    response = api_as(None).get("/api/v1/applications",
                                headers={"Authorization": "Basic YWRhOnB3"})
    assert response.status_code == 401


def test_it_returns_401_for_the_token_of_an_inactive_user(api_as, admin_user, application):
    api = api_as("admin")
    admin_user.is_active = False
    admin_user.save()
    assert api.get("/api/v1/applications").status_code == 401


def test_it_treats_a_superuser_without_groups_as_admin(api_as, nobody, application):
    nobody.is_superuser = True
    nobody.save()
    response = api_as("nobody").patch("/api/v1/applications/orders", {"name": "Renamed"})
    assert response.status_code == 200
    assert response.json()["name"] == "Renamed"


def test_every_operation_of_the_api_requires_authentication(viewer):
    client = Client()
    client.force_login(viewer)
    schema = client.get("/api/openapi.json").json()
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            assert op.get("security"), f"{method.upper()} {path} is open to anyone"


@pytest.mark.parametrize("method,least", [("GET", "viewer"), ("HEAD", "viewer"),
                                          ("POST", "admin"), ("PATCH", "admin"),
                                          ("PUT", "admin"), ("DELETE", "admin")])
@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_an_operation_that_names_no_role_needs_admin_to_change_anything(
    request, method, least, role
):
    user = request.getfixturevalue(ROLE_FIXTURES[role])
    http = RequestFactory().generic(method, "/api/v1/anything")
    http.user = user
    http._dont_enforce_csrf_checks = True
    auth = SessionAuth()
    if RANK[role] >= RANK[least]:
        assert auth(http) == user
    else:
        with pytest.raises(AuthorizationError):
            auth(http)
