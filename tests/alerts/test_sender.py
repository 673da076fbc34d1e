"""Channel URLs shown and logged: scheme and host, never the secret parts."""

import pytest

from alerts.sender import check_url, mask_url, redact


@pytest.mark.parametrize(("url", "shown"), [
    ("json://127.0.0.1:8080/hook?token=abc", "json://127.0.0.1:8080/****"),
    ("mailto://ops:hunter2@mail.example.com", "mailto://mail.example.com/****"),
    ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#ops", "slack://****/****"),
    ("pagerduty://integrationkey@apikey/", "pagerduty://****/****"),
    ("https://hooks.example.com", "https://hooks.example.com"),
    ("not a url", "****"),
])
def test_a_url_is_shown_as_its_scheme_and_host_only(url, shown):
    assert mask_url(url) == shown


def test_an_error_text_loses_every_part_of_the_url_that_may_be_secret():
    url = "mailto://ops:hunter2@mail.example.com"
    text = redact("login failed for ops:hunter2 at mail.example.com", url)
    assert text == "login failed for ****:**** at mail.example.com"


def test_a_url_apprise_cannot_use_is_explained():
    assert check_url("json://127.0.0.1/x") == ""
    assert "does not know how to send to a nope:// URL" in check_url("nope://x/y")
    assert check_url("plain text").startswith("Enter an apprise URL")
