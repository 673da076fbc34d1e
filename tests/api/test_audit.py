"""The audit trail over the API: filters, dates, pages, newest first."""

from datetime import UTC, datetime

import pytest

from accounts.models import AuditEntry

AUDIT = "/api/v1/audit"


def entry(when: str, actor: str = "ada", action: str = "region.add", app: str = "orders"):
    return AuditEntry.objects.create(
        created_at=datetime.fromisoformat(when).replace(tzinfo=UTC), actor_name=actor,
        source="web", action=action, object_type="region", object_repr=f"{app}/x",
        application_slug=app,
    )


@pytest.fixture
def trail(db):
    return [
        entry("2026-11-01T10:00:00", "ada", "application.create", "orders"),
        entry("2026-11-02T10:00:00", "otto", "region.add", "orders"),
        entry("2026-11-02T23:59:00", "otto", "region.remove", "billing"),
        entry("2026-11-03T00:00:00", "ada", "region.add", "billing"),
    ]


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_it_lists_the_newest_entries_first(api_as, trail):
    response = api_as("viewer").get(AUDIT)
    assert ids(response) == [e.id for e in reversed(trail)]
    first = response.json()["items"][0]
    assert {k: first[k] for k in ("actor", "source", "action", "application")} == {
        "actor": "ada", "source": "web", "action": "region.add", "application": "billing"}


@pytest.mark.parametrize("query,expected", [
    ("actor=otto", [2, 1]),
    ("application=billing", [3, 2]),
    ("action=region.add", [3, 1]),
    ("actor=ada&application=orders", [0]),
    ("since=2026-11-02", [3, 2, 1]),
    ("until=2026-11-02", [2, 1, 0]),
    ("since=2026-11-02&until=2026-11-02", [2, 1]),
    ("since=2026-11-02T12:00:00Z", [3, 2]),
    ("until=2026-11-02T10:00:00%2B00:00", [0]),
    ("actor=nobody-at-all", []),
])
def test_it_filters_the_trail(api_as, trail, query, expected):
    response = api_as("viewer").get(f"{AUDIT}?{query}")
    assert ids(response) == [trail[i].id for i in expected]
    assert response.json()["count"] == len(expected)


def test_it_pages_with_limit_and_offset(api_as, trail):
    api = api_as("viewer")
    page = api.get(f"{AUDIT}?limit=2&offset=1").json()
    assert (page["count"], page["limit"], page["offset"]) == (4, 2, 1)
    assert [item["id"] for item in page["items"]] == [trail[2].id, trail[1].id]
    assert api.get(f"{AUDIT}?offset=10").json()["items"] == []


@pytest.mark.parametrize("query,field", [
    ("since=yesterday", "since"),
    ("until=2026-13-01", "until"),
    ("until=9999-12-31", "until"),
    ("since=0001-01-01T00:00:00%2B01:00", "since"),
    ("limit=0", "limit"),
    ("limit=501", "limit"),
    ("limit=ten", "limit"),
    ("offset=-1", "offset"),
    ("offset=9223372036854775808", "offset"),
])
def test_it_refuses_bad_filters_with_400_on_the_field(api_as, trail, query, field):
    response = api_as("viewer").get(f"{AUDIT}?{query}")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_it_shows_the_api_changes_with_their_source(api_as, application):
    admin = api_as("admin")
    admin.patch("/api/v1/applications/orders", {"name": "Orders v2"})
    api_as("operator").post("/api/v1/applications/orders/regions", {"code": "eu-west-1"})
    items = api_as("viewer").get(f"{AUDIT}?application=orders").json()["items"]
    assert [(i["action"], i["actor"], i["source"]) for i in items[:2]] == [
        ("region.add", "otto", "api"), ("application.update", "ada", "api")]
    assert items[1]["before"] == {"name": "Orders API"}
    assert items[1]["after"] == {"name": "Orders v2"}
