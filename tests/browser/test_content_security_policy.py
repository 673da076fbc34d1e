"""In Chromium, under the Content-Security-Policy, no page has anything blocked, htmx still
polls the dashboard's fragments, and the API docs still render."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_walkthrough import log_in

pytestmark = pytest.mark.slow

PAGES = ["/", "/applications/demo/", "/applications/demo/regions/eu-west-1/", "/watch/demo/",
         "/applications/demo/rollouts/", "/audit/", "/profile/", "/applications/new/",
         "/admin/", "/api/docs"]


def test_no_page_has_anything_blocked_by_the_policy(page, product):
    blocked = []
    page.on("console", lambda message: blocked.append((page.url, message.text))
            if "Content Security Policy" in message.text else None)
    log_in(page, product)
    for path in PAGES:
        response = page.goto(product.url + path)
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
    assert not blocked, blocked


def test_htmx_still_polls_the_dashboard_under_the_policy(page, product):
    log_in(page, product)
    page.goto(product.url + "/watch/demo/")
    with page.expect_response(lambda r: "/watch/demo/tiles/" in r.url, timeout=15_000) as polled:
        pass
    assert polled.value.status == 200


def test_the_api_docs_render_under_the_policy(page, product):
    log_in(page, product)
    page.goto(product.url + "/api/docs")
    expect(page.get_by_text("Meridian API").first).to_be_visible()
    expect(page.locator(".opblock").first).to_be_visible()
