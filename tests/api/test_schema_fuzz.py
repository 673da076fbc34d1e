"""Schemathesis sends generated requests, valid and invalid, to every operation of the schema
the API serves, as an admin with a bearer token: any 5xx, or any answer the schema does not
describe (status, content type, headers, body), fails. Random path values mostly meet 404, so
a second pass sends valid requests about objects that exist. Bounded and seeded: a run
repeats."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.audit import Actor
from accounts.models import ApiToken
from controlplane.api import api
from deployer.models import Rollout
from regions.services import add_region

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, negative_data_rejection]
SERVED = api.get_openapi_schema(path_prefix="/api/")


def load(modes: list[str]):
    loaded = schemathesis.openapi.from_dict(SERVED)
    loaded.app = get_wsgi_application()
    loaded.config.generation.update(modes=modes, max_examples=15, deterministic=True,
                                    database="none")
    return loaded


schema = load(["positive", "negative"])
existing = load(["positive"])


@pytest.fixture
def bearer(admin_user, application, aws):
    add_region(application, "eu-west-1", Actor(admin_user, "cli"))
    _token, key = ApiToken.issue(admin_user, "schema fuzzing")
    # As Django's test client does: the test's database connection outlives each request.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield {"Authorization": f"Bearer {key}"}
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def known(application, bearer):
    """Path values that name objects in the database."""
    rollout = Rollout.objects.create(application=application, kind="plan", status="succeeded")
    return {"slug": application.slug, "code": "eu-west-1", "pk": rollout.pk}


def test_the_fuzzed_schema_is_the_one_the_api_serves(viewer):
    client = Client()
    client.force_login(viewer)
    assert client.get("/api/openapi.json").json() == SERVED


@schema.parametrize()
@settings(max_examples=15, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(case, bearer):
    case.call_and_validate(headers=bearer, checks=CHECKS)


@existing.parametrize()
@settings(max_examples=15, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_valid_requests_about_existing_objects_get_documented_answers(case, bearer, known):
    case.path_parameters = {name: known[name] for name in case.path_parameters or {}}
    case.call_and_validate(headers=bearer, checks=CHECKS[:-1])
