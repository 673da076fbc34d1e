"""Guessing API tokens is slowed down: too many bad tokens from one address answer 429."""

import pytest
from django.test import Client

from accounts.models import ApiToken

STATUS = "/api/v1/applications"


@pytest.fixture(autouse=True)
def _small_limit(settings):
    settings.API_AUTH_FAILURE_LIMIT = 3
    settings.API_AUTH_FAILURE_WINDOW = 300


def call(key: str, address: str = "198.51.100.7"):
    return Client().get(STATUS, headers={"Authorization": f"Bearer {key}"}, REMOTE_ADDR=address)


def test_bad_tokens_answer_401_until_the_limit_then_429_with_retry_after(db):
    assert [call("mrd_wrong").status_code for _ in range(3)] == [401, 401, 401]
    response = call("mrd_wrong")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 300
    [message] = response.json()["errors"]["__all__"]
    assert message.startswith("Too many failed authentication attempts from this address")


def test_a_throttled_address_waits_even_with_a_good_token(viewer):
    _token, key = ApiToken.issue(viewer, "ci")
    for _ in range(3):
        call("mrd_wrong")
    assert call(key).status_code == 429


def test_other_addresses_keep_working(viewer):
    _token, key = ApiToken.issue(viewer, "ci")
    for _ in range(4):
        call("mrd_wrong")
    assert call(key, address="203.0.113.9").status_code == 200


def test_good_tokens_do_not_count(viewer):
    _token, key = ApiToken.issue(viewer, "ci")
    assert [call(key).status_code for _ in range(5)] == [200] * 5


def test_a_header_that_is_not_a_bearer_token_counts_as_a_failure(db):
    for _ in range(3):
        Client().get(STATUS, headers={"Authorization": "Basic dmVyYTp4"},
                     REMOTE_ADDR="198.51.100.7")
    assert call("mrd_wrong").status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(settings, viewer):
    settings.TRUST_PROXY_HEADERS = True
    _token, key = ApiToken.issue(viewer, "ci")
    proxy = "10.0.0.2"
    for _ in range(3):
        Client().get(STATUS, headers={"Authorization": "Bearer mrd_wrong",
                                      "X-Forwarded-For": "198.51.100.7"}, REMOTE_ADDR=proxy)
    other = Client().get(STATUS, headers={"Authorization": f"Bearer {key}",
                                          "X-Forwarded-For": "203.0.113.9"}, REMOTE_ADDR=proxy)
    assert other.status_code == 200


def test_without_a_trusted_proxy_a_forwarded_address_is_ignored(viewer):
    for number in range(3):
        Client().get(STATUS, headers={"Authorization": "Bearer mrd_wrong",
                                      "X-Forwarded-For": f"192.0.2.{number}"},
                     REMOTE_ADDR="198.51.100.7")
    assert call("mrd_wrong").status_code == 429
