"""Region switch in Chromium: drain a region from its button, see the application page's
"clients near → served by" matrix send its clients to another region, restore, see it back."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SHOTS
from tests.browser.test_walkthrough import deploy_and_apply, log_in

pytestmark = pytest.mark.slow


def served_by(page, client: str):
    return page.locator(f'#dns-matrix tr[data-client="{client}"]')


def test_drain_moves_the_clients_and_restore_brings_them_back(page, product):
    log_in(page, product)
    page.goto(product.url + "/applications/demo/")
    if page.locator("#tile-eu-west-1 .signal").inner_text() == "Not deployed":
        deploy_and_apply(page, steps_at_least=3)
        page.goto(product.url + "/applications/demo/")
    for code in ("us-east-1", "eu-west-1", "ap-southeast-2"):
        expect(page.locator(f"#tile-{code}")).to_have_attribute("data-health", "healthy",
                                                                timeout=150_000)
    expect(page.get_by_role("heading", name="What DNS answers simulated")).to_be_visible()
    expect(served_by(page, "eu-west-1")).to_have_attribute("data-answer", "eu-west-1",
                                                          timeout=60_000)

    # Drain eu-west-1 from its button; the confirmation says where its clients go.
    page.goto(product.url + "/applications/demo/regions/eu-west-1/")
    page.get_by_role("link", name="Drain…").click()
    expect(page.get_by_role("heading", name=re.compile("Drain eu-west-1"))).to_be_visible()
    page.fill("#id_reason", "browser walkthrough")
    page.get_by_role("button", name="Drain eu-west-1").click()
    expect(page.get_by_text(re.compile(r"eu-west-1 is drained"))).to_be_visible()

    page.goto(product.url + "/applications/demo/")
    moved = served_by(page, "eu-west-1")
    expect(moved).to_have_attribute("data-answer", "us-east-1", timeout=60_000)
    expect(moved).to_contain_text("served by another region")
    expect(page.locator("#tile-eu-west-1 .signal")).to_have_text("Drained")
    expect(page.locator(".banner-signal")).to_contain_text("Drained: eu-west-1")
    expect(served_by(page, "ap-southeast-2")).to_have_attribute("data-answer", "ap-southeast-2")
    page.screenshot(path=str(SHOTS / "dns-drained.png"), full_page=True)

    # Restore: the answer comes back.
    page.goto(product.url + "/applications/demo/regions/eu-west-1/")
    page.get_by_role("link", name="Restore…").click()
    page.get_by_role("button", name="Restore eu-west-1").click()
    expect(page.get_by_text(re.compile(r"eu-west-1 is restored"))).to_be_visible()
    page.goto(product.url + "/applications/demo/")
    expect(served_by(page, "eu-west-1")).to_have_attribute("data-answer", "eu-west-1",
                                                          timeout=60_000)
    expect(page.locator("#tile-eu-west-1 .signal")).not_to_have_text("Drained", timeout=30_000)
