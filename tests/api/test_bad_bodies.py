"""Bodies the API must refuse with 400 and field errors, writing nothing."""

import json

import pytest

from .conftest import VALID_APP, counts

APPS = "/api/v1/applications"
ORDERS = "/api/v1/applications/orders"
REGIONS = "/api/v1/applications/orders/regions"
TEN_KB = "x" * 10_240


def refused(api, method: str, url: str, body=None, raw: bytes | None = None) -> dict:
    """Send it, check that it was a 400 that changed nothing, return the errors."""
    before = counts()
    response = api.call(method, url, body, raw=raw)
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")
    assert counts() == before
    errors = response.json()["errors"]
    assert errors and all(
        isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages)
        for messages in errors.values()
    )
    return errors


@pytest.mark.parametrize("field,value", [
    ("slug", 123),
    ("name", True),
    ("domain_name", ["api.example.com"]),
    ("account_id", 123456789012),
    ("failure_threshold", "3"),
    ("failure_threshold", 3.5),
    ("failure_threshold", True),
    ("health_check_interval", "30"),
    ("stage", {"name": "prod"}),
])
def test_it_refuses_a_value_of_the_wrong_json_type(admin_api, application, field, value):
    errors = refused(admin_api, "POST", APPS, {**VALID_APP, field: value})
    assert list(errors) == [field]


@pytest.mark.parametrize("field", ["slug", "name", "role_arn", "failure_threshold", "source"])
def test_it_refuses_null_for_a_field_that_cannot_be_null(admin_api, application, field):
    errors = refused(admin_api, "POST", APPS, {**VALID_APP, field: None})
    assert list(errors) == [field]


def test_it_lists_every_missing_required_field(admin_api, application):
    errors = refused(admin_api, "POST", APPS, {"slug": "billing"})
    assert set(errors) == {"name", "domain_name", "hosted_zone_id", "table_name",
                           "main_region", "account_id"}
    assert errors["name"] == ["This field is required."]


def test_it_refuses_unknown_fields_by_name(admin_api, application):
    errors = refused(admin_api, "POST", APPS, {**VALID_APP, "id": 7, "regions": []})
    assert errors == {"id": ["Unknown field."], "regions": ["Unknown field."]}


@pytest.mark.parametrize("field", ["slug", "name", "domain_name", "role_arn", "command",
                                   "stage", "table_name"])
def test_it_refuses_a_ten_kilobyte_string_with_the_model_limit(admin_api, application, field):
    errors = refused(admin_api, "POST", APPS, {**VALID_APP, field: TEN_KB})
    assert any("at most" in message for message in errors[field]), errors


def test_it_refuses_a_ten_kilobyte_string_in_a_patch(admin_api, application):
    errors = refused(admin_api, "PATCH", ORDERS, {"name": TEN_KB})
    assert any("at most 100 characters" in message for message in errors["name"])


def test_it_refuses_a_ten_kilobyte_region_code(admin_api, application):
    errors = refused(admin_api, "POST", REGIONS, {"code": TEN_KB})
    assert list(errors) == ["code"]


@pytest.mark.parametrize("method,url", [("POST", APPS), ("PATCH", ORDERS), ("POST", REGIONS)])
@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", b"{\"slug\": ", b"nul", b"[" * 5000])
def test_it_refuses_a_body_that_is_not_json(admin_api, application, method, url, raw):
    errors = refused(admin_api, method, url, raw=raw)
    assert errors == {"__all__": ["The body is not valid JSON."]}


@pytest.mark.parametrize("method,url", [("POST", APPS), ("PATCH", ORDERS), ("POST", REGIONS)])
@pytest.mark.parametrize("body", [[VALID_APP], [], "billing", 42, None, True])
def test_it_refuses_json_that_is_not_an_object(admin_api, application, method, url, body):
    errors = refused(admin_api, method, url, raw=json.dumps(body).encode())
    assert errors == {"__all__": ["The body must be a JSON object."]}


@pytest.mark.parametrize("method,url", [("POST", APPS), ("POST", REGIONS)])
def test_it_refuses_an_empty_body(admin_api, application, method, url):
    errors = refused(admin_api, method, url, raw=b"")
    assert errors == {"__all__": ["The body must be a JSON object."]}


@pytest.mark.parametrize("value", ["bad\x00name", "\ud800"])
def test_it_refuses_text_the_database_cannot_store(admin_api, application, value):
    raw = json.dumps({**VALID_APP, "name": value}).encode()
    errors = refused(admin_api, "POST", APPS, raw=raw)
    assert list(errors) == ["name"]


def test_it_applies_the_model_rules_with_the_model_messages(admin_api, application):
    errors = refused(admin_api, "POST", APPS, {
        **VALID_APP, "account_id": "12345", "source": "command", "command": "",
        "health_check_interval": 20, "failure_threshold": 11,
    })
    assert set(errors) >= {"account_id", "command", "health_check_interval",
                           "failure_threshold"}
    assert errors["command"] == ["An own CDK app needs the command that runs it."]


def test_it_refuses_a_slug_that_is_taken(admin_api, application):
    errors = refused(admin_api, "POST", APPS, {**VALID_APP, "slug": "orders"})
    assert list(errors) == ["slug"]


def test_it_refuses_to_change_the_slug(admin_api, application):
    errors = refused(admin_api, "PATCH", ORDERS, {"slug": "orders-2"})
    assert errors == {"slug": ["The slug cannot be changed; it names the stacks."]}


@pytest.mark.parametrize("body,field", [
    ({"failure_threshold": None}, "failure_threshold"),
    ({"failure_threshold": "5"}, "failure_threshold"),
    ({"color": "blue"}, "color"),
    ({"domain_name": "not a domain"}, "domain_name"),
])
def test_it_refuses_a_bad_patch_and_keeps_the_application(admin_api, application, body,
                                                          field):
    errors = refused(admin_api, "PATCH", ORDERS, body)
    assert list(errors) == [field]
    application.refresh_from_db()
    assert application.failure_threshold == 3
    assert application.domain_name == "api.example.com"


def test_it_refuses_a_region_body_with_extra_fields(admin_api, application):
    errors = refused(admin_api, "POST", REGIONS, {"code": "eu-west-1", "role": "main"})
    assert errors == {"role": ["Unknown field."]}


def test_it_refuses_a_region_code_that_is_a_number(admin_api, application):
    errors = refused(admin_api, "POST", REGIONS, {"code": 1})
    assert list(errors) == ["code"]
