"""The OpenAPI document and the browsable docs."""

import re

import pytest
from django.test import Client
from openapi_spec_validator import validate

from accounts.models import ApiToken


@pytest.fixture
def reader(viewer):
    client = Client()
    client.force_login(viewer)
    return client


def openapi(client: Client) -> dict:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_the_schema_answers_anonymous_callers_401_in_the_error_shape(db):
    response = Client().get("/api/openapi.json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="meridian"'
    assert list(response.json()["errors"]) == ["__all__"]


def test_the_docs_page_sends_anonymous_visitors_to_the_login_page(db):
    response = Client().get("/api/docs")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/api/docs"


def test_the_schema_answers_a_bearer_token(viewer):
    _token, key = ApiToken.issue(viewer, "schema")
    response = Client().get("/api/openapi.json", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Meridian API"


def test_the_schema_refuses_an_unknown_token(db):
    response = Client().get("/api/openapi.json", headers={"Authorization": "Bearer mrd_nope"})
    assert response.status_code == 401
    assert response.json() == {"errors": {"__all__": ["The token is unknown or revoked."]}}


def test_the_schema_refuses_a_user_without_a_role(nobody):
    client = Client()
    client.force_login(nobody)
    assert client.get("/api/openapi.json").status_code == 403


def test_the_schema_validates_as_openapi_3(reader):
    schema = openapi(reader)
    assert schema["openapi"].startswith("3.")
    validate(schema)
    assert schema["info"]["title"] == "Meridian API"
    assert schema["info"]["version"] == "1"


INVENTORY = {
    ("/api/v1/applications", "get"),
    ("/api/v1/applications", "post"),
    ("/api/v1/applications/{slug}", "get"),
    ("/api/v1/applications/{slug}", "patch"),
    ("/api/v1/applications/{slug}", "delete"),
    ("/api/v1/applications/{slug}/regions", "get"),
    ("/api/v1/applications/{slug}/regions", "post"),
    ("/api/v1/applications/{slug}/regions/{code}", "get"),
    ("/api/v1/applications/{slug}/regions/{code}", "delete"),
    ("/api/v1/audit", "get"),
}


def inventory_operations(schema: dict):
    for path, method in sorted(INVENTORY):
        yield path, method, schema["paths"][path][method]


def test_the_schema_lists_every_endpoint_of_the_inventory(reader):
    paths = openapi(reader)["paths"]
    methods = {(path, method) for path, ops in paths.items() for method in ops}
    assert INVENTORY <= methods


def test_the_schema_documents_bearer_auth_on_every_operation(reader):
    schema = openapi(reader)
    schemes = schema["components"]["securitySchemes"]
    bearer = [name for name, s in schemes.items()
              if s["type"] == "http" and s["scheme"] == "bearer"]
    assert len(bearer) == 1
    for path, method, op in inventory_operations(schema):
        assert {bearer[0]: []} in op["security"], f"{method} {path}"


def test_the_schema_documents_the_error_shape_on_every_operation(reader):
    schema = openapi(reader)
    error = schema["components"]["schemas"]["ErrorOut"]
    assert error["properties"]["errors"]["type"] == "object"
    assert error["properties"]["errors"]["additionalProperties"]["type"] == "array"
    for path, method, op in inventory_operations(schema):
        for status in ("400", "401", "403", "404"):
            ref = op["responses"][status]["content"]["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/ErrorOut", f"{method} {path} {status}"


def test_every_operation_documents_every_error_answer_in_the_error_shape(reader):
    schema = openapi(reader)
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            for status in ("400", "401", "403", "404", "409", "413", "429"):
                content = op["responses"][status]["content"]["application/json"]["schema"]
                assert content["$ref"].rsplit("/", 1)[1] in ("ErrorOut", "ConflictOut"), (
                    f"{method} {path} {status}")


def test_the_request_schemas_state_the_rules_the_validators_enforce(reader):
    create = openapi(reader)["components"]["schemas"]["ApplicationIn"]["properties"]
    assert create["slug"]["pattern"] == "^[a-z](?:[a-z0-9-]{0,48}[a-z0-9])?$"
    assert create["account_id"]["pattern"] == "^[0-9]{12}$"
    assert create["hosted_zone_id"]["pattern"] == "^Z[A-Z0-9]{1,31}$"
    assert create["table_name"]["minLength"] == 3
    assert create["name"]["minLength"] == 1
    assert "us-east-1" in create["main_region"]["enum"]
    assert (create["failure_threshold"]["minimum"], create["failure_threshold"]["maximum"]) == (
        1, 10)
    assert re.fullmatch(create["role_arn"]["pattern"], "")
    assert re.fullmatch(create["role_arn"]["pattern"], "arn:aws:iam::123456789012:role/Deploy")
    assert re.fullmatch(create["domain_name"]["pattern"], "api.example.com")
    assert not re.fullmatch(create["domain_name"]["pattern"], "localhost")


def test_the_sandbox_schema_shows_the_sandbox_zone_ids(reader, settings):
    settings.SANDBOX = True
    create = openapi(reader)["components"]["schemas"]["ApplicationIn"]["properties"]
    assert create["hosted_zone_id"]["pattern"] == "^[A-Z0-9]{1,32}$"


def test_the_schema_documents_both_answers_of_deleting_a_region(reader):
    op = openapi(reader)["paths"]["/api/v1/applications/{slug}/regions/{code}"]["delete"]
    assert "being removed" in op["responses"]["200"]["description"]
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/RegionOut")
    assert "deleted" in op["responses"]["204"]["description"]
    assert "content" not in op["responses"]["204"]


def test_the_request_schemas_refuse_unknown_fields_and_show_the_model_limits(reader):
    schemas = openapi(reader)["components"]["schemas"]
    for name in ("ApplicationIn", "ApplicationPatch", "RegionIn"):
        assert schemas[name]["additionalProperties"] is False
    create = schemas["ApplicationIn"]
    assert set(create["required"]) == {
        "slug", "name", "domain_name", "hosted_zone_id", "table_name", "main_region",
        "account_id",
    }
    assert create["properties"]["slug"]["maxLength"] == 50
    assert create["properties"]["source"]["enum"] == ["reference", "sandbox", "command"]
    assert "required" not in schemas["ApplicationPatch"]


def test_the_docs_page_loads_nothing_from_outside_the_project(reader):
    client = reader
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    references = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert references, "the docs page should reference its scripts and styles"
    for ref in references:
        assert ref.startswith("/") and not ref.startswith("//"), ref
        asset = client.get(ref)
        assert asset.status_code == 200, ref
        asset.close()
    assert "swagger-ui-bundle.js" in html
    # Swagger UI otherwise fetches a validity badge from validator.swagger.io.
    assert '"validatorUrl": null' in html
    assert "/api/openapi.json" in html
