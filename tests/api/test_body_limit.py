"""A request body over DATA_UPLOAD_MAX_MEMORY_SIZE is 413, never a server error: in the API's
error shape under /api, as a plain page on the web."""

import pytest
from django.test import Client

from .conftest import VALID_APP

TOO_BIG = b'{"name": "' + b"x" * 2_700_000 + b'"}'
MESSAGE = ("The request body is larger than 2621440 bytes, the most this installation "
           "accepts.")


@pytest.mark.parametrize(("method", "url"), [
    ("POST", "/api/v1/applications"),
    ("PATCH", "/api/v1/applications/orders"),
    ("POST", "/api/v1/applications/orders/regions"),
])
def test_every_json_endpoint_answers_413_in_the_error_shape(admin_api, application, method,
                                                             url):
    response = admin_api.call(method, url, raw=TOO_BIG)
    assert response.status_code == 413, response.content[:300]
    assert response.json() == {"errors": {"__all__": [MESSAGE]}}


def test_a_session_caller_gets_413_too(api_as, application):
    response = api_as("admin", mode="session").patch("/api/v1/applications/orders",
                                                     raw=TOO_BIG)
    assert response.status_code == 413


def test_the_limit_is_a_setting(admin_api, db, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = admin_api.post("/api/v1/applications", {**VALID_APP, "name": "x" * 200})
    assert response.status_code == 413
    assert "larger than 100 bytes" in response.json()["errors"]["__all__"][0]


def test_a_web_form_over_the_limit_answers_a_413_page(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    client.get("/applications/new/")
    token = client.cookies["csrftoken"].value
    response = client.post("/applications/new/",
                           {"csrfmiddlewaretoken": token, "name": "x" * 2_700_000})
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert MESSAGE in response.content.decode()
