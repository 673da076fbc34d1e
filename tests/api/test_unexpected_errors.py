"""A failure nobody planned for still answers in the error shape, without a stack trace."""

import pytest

from regions import services

from .conftest import VALID_APP


@pytest.mark.parametrize("debug", [False, True])
def test_it_hides_the_stack_trace_of_an_unexpected_failure(admin_api, settings, monkeypatch,
                                                           debug, db):
    settings.DEBUG = debug

    def broken(data, actor):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(services, "create_application", broken)
    response = admin_api.post("/api/v1/applications", VALID_APP)
    assert response.status_code == 500
    assert response.json() == {"errors": {"__all__": ["Internal error."]}}
    assert b"secret internals" not in response.content
    assert b"Traceback" not in response.content


def test_it_answers_a_wrong_method_with_405_in_the_error_shape(admin_api, application):
    response = admin_api.call("PUT", "/api/v1/applications/orders", {"name": "x"})
    assert response.status_code == 405
    assert set(response["Allow"].split(", ")) == {"GET", "PATCH", "DELETE"}
    [message] = response.json()["errors"]["__all__"]
    assert message.startswith("PUT is not allowed here")


def test_it_answers_unknown_api_paths_with_a_json_404(admin_api, db):
    response = admin_api.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"errors": {"__all__": ["There is no such API endpoint."]}}
