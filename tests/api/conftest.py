import json

import pytest
from django.test import Client

from accounts.audit import Actor
from accounts.models import ApiToken, AuditEntry
from regions.models import Application, Region
from regions.services import add_region

ROLE_FIXTURES = {
    "nobody": "nobody",
    "viewer": "viewer",
    "operator": "operator",
    "admin": "admin_user",
}


class Api:
    """Calls the API the way a client does: a bearer token, a browser session, or nothing."""

    def __init__(self, user=None, mode: str = "bearer"):
        self.client = Client(enforce_csrf_checks=True)
        self.headers: dict[str, str] = {}
        self.csrf = None
        if user is not None and mode == "bearer":
            _token, key = ApiToken.issue(user, "tests")
            self.headers["Authorization"] = f"Bearer {key}"
        elif user is not None and mode in ("session", "session-no-csrf"):
            self.client.force_login(user)
            if mode == "session":
                # Any page renders the CSRF token, as a browser would receive it.
                self.client.get("/profile/")
                self.csrf = self.client.cookies["csrftoken"].value

    def call(self, method: str, url: str, body=None, *, raw: bytes | None = None,
             headers: dict | None = None):
        all_headers = {**self.headers, **(headers or {})}
        if self.csrf and method.upper() not in ("GET", "HEAD", "OPTIONS"):
            all_headers["X-CSRFToken"] = self.csrf
        kwargs: dict = {"headers": all_headers}
        if raw is not None:
            kwargs.update(data=raw, content_type="application/json")
        elif body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        return getattr(self.client, method.lower())(url, **kwargs)

    def get(self, url, **kw):
        return self.call("GET", url, **kw)

    def post(self, url, body=None, **kw):
        return self.call("POST", url, body, **kw)

    def patch(self, url, body=None, **kw):
        return self.call("PATCH", url, body, **kw)

    def delete(self, url, **kw):
        return self.call("DELETE", url, **kw)


@pytest.fixture
def api_as(request, db):
    """api_as("admin") or api_as("viewer", mode="session"); api_as(None) is anonymous."""

    def make(role: str | None, mode: str = "bearer") -> Api:
        user = request.getfixturevalue(ROLE_FIXTURES[role]) if role else None
        return Api(user, mode)

    return make


@pytest.fixture
def admin_api(api_as):
    return api_as("admin")


@pytest.fixture
def replica(application, admin_user):
    return add_region(application, "eu-west-1", Actor(admin_user, "cli"))


def counts() -> dict[str, int]:
    return {
        "applications": Application.objects.count(),
        "regions": Region.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


VALID_APP = {
    "slug": "billing",
    "name": "Billing API",
    "domain_name": "billing.example.com",
    "hosted_zone_id": "Z0123456789ABCDEFGHIJ",
    "table_name": "billing",
    "main_region": "eu-west-1",
    "account_id": "123456789012",
}
