"""X-Forwarded-Proto and X-Forwarded-For count only when TRUST_PROXY_HEADERS says a proxy
sets them; otherwise any client could claim HTTPS or another address."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from accounts.models import AuditEntry

ROOT = Path(__file__).resolve().parents[1]


def ssl_header(tmp_path, **env) -> str:
    environ = {k: v for k, v in os.environ.items() if k != "TRUST_PROXY_HEADERS"}
    environ.update(SECRET_KEY="k" * 50, MERIDIAN_VAR_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "-c",
         "import controlplane.settings as s; print(s.SECURE_PROXY_SSL_HEADER)"],
        cwd=ROOT, env=environ, capture_output=True, text=True, check=True).stdout.strip()


def test_proxy_headers_are_not_trusted_by_default(tmp_path):
    assert ssl_header(tmp_path) == "None"


def test_a_trusted_proxy_says_which_requests_came_over_https(tmp_path):
    assert ssl_header(tmp_path, TRUST_PROXY_HEADERS="true") == (
        "('HTTP_X_FORWARDED_PROTO', 'https')")


@pytest.fixture
def https_only(settings):
    settings.SECURE_SSL_REDIRECT = True


def test_a_client_claiming_https_is_still_redirected_without_a_trusted_proxy(db, https_only):
    response = Client().get("/login/", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/login/"


def test_behind_a_trusted_proxy_https_requests_are_served(db, https_only, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = Client().get("/login/", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200


def _create_token_as(admin_user, settings, trusted: bool, headers: dict) -> str:
    settings.TRUST_PROXY_HEADERS = trusted
    client = Client()
    client.force_login(admin_user)
    client.post("/profile/tokens/", {"name": "ci"}, headers=headers, REMOTE_ADDR="10.0.0.2")
    return AuditEntry.objects.get(action="token.create").remote_addr


def test_the_audit_trail_records_the_address_the_trusted_proxy_saw(admin_user, settings):
    address = _create_token_as(admin_user, settings, True,
                               {"X-Forwarded-For": "192.0.2.1, 198.51.100.7"})
    assert address == "198.51.100.7"


def test_the_audit_trail_ignores_a_forwarded_address_without_a_trusted_proxy(admin_user,
                                                                             settings):
    address = _create_token_as(admin_user, settings, False,
                               {"X-Forwarded-For": "198.51.100.7"})
    assert address == "10.0.0.2"


def test_a_forwarded_value_that_is_no_address_falls_back_to_the_peer(admin_user, settings):
    address = _create_token_as(admin_user, settings, True, {"X-Forwarded-For": "unknown"})
    assert address == "10.0.0.2"
