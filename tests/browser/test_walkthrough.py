"""A new operator's first ten minutes, in Chromium against the product as `make run` runs it."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SHOTS

pytestmark = pytest.mark.slow


def log_in(page, product):
    page.goto(product.url + "/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.fill("#id_username", "admin")
    page.fill("#id_password", product.password)
    page.click("button[type=submit]")
    expect(page.get_by_role("heading", name="Applications")).to_be_visible()


def test_an_operator_adds_a_region_deploys_watches_and_rehearses_an_outage(page, product):
    log_in(page, product)
    expect(page.get_by_text("Sandbox — local AWS emulator, no real resources")).to_be_visible()

    # Create an application; the sandbox prefills the zone, account and main region.
    page.get_by_role("link", name="New application").click()
    page.fill("#id_slug", "shop")
    page.fill("#id_name", "Shop")
    page.fill("#id_domain_name", "shop.sandbox.meridian.test")
    page.fill("#id_table_name", "shop-items")
    page.get_by_role("button", name="Create application").click()
    expect(page.get_by_text("Application shop created with its main region us-east-1")).to_be_visible()

    # A bad region code: the error shows next to the field on blur, and again on submit.
    page.get_by_role("link", name="Add region").click()
    page.fill("#id_code", "mars-1")
    page.locator("#id_check_enabled").focus()
    expect(page.locator("#field-code .errorlist")).to_contain_text("is not an AWS region")
    page.get_by_role("button", name="Add region").click()
    expect(page.locator("#field-code .errorlist")).to_contain_text("is not an AWS region")
    page.fill("#id_code", "eu-west-1")
    page.get_by_role("button", name="Add region").click()
    expect(page.get_by_text("eu-west-1 added to shop as a replica")).to_be_visible()

    # One click deploys every region; the rollout page follows it live to the end.
    page.get_by_role("button", name="Deploy").click()
    expect(page).to_have_url(re.compile(r"/rollouts/\d+/"))
    expect(page.locator("#rollout-status > p > [data-status]")).to_have_attribute(
        "data-status", "succeeded", timeout=240_000
    )
    page.screenshot(path=str(SHOTS / "rollout.png"), full_page=True)

    # The dashboard: both regions healthy once the emitter and the poller have run.
    page.goto(product.url + "/applications/shop/")
    for code in ("us-east-1", "eu-west-1"):
        expect(page.locator(f"#tile-{code}")).to_have_attribute("data-health", "healthy",
                                                                timeout=150_000)
    expect(page.locator('[data-pair="us-east-1:eu-west-1"] .lag')).to_contain_text(
        "ms", timeout=150_000)
    page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)

    # Rehearse an outage from the region page; the live tile turns unhealthy, then recovers.
    page.goto(product.url + "/applications/shop/regions/eu-west-1/")
    page.get_by_role("button", name="Simulate outage").click()
    expect(page.get_by_text("Simulating: outage.")).to_be_visible()
    page.goto(product.url + "/applications/shop/")
    expect(page.locator("#tile-eu-west-1")).to_have_attribute("data-health", "unhealthy",
                                                             timeout=150_000)
    expect(page.locator("#tile-us-east-1")).to_have_attribute("data-health", "healthy")
    page.screenshot(path=str(SHOTS / "dashboard-outage.png"), full_page=True)

    page.goto(product.url + "/applications/shop/regions/eu-west-1/")
    page.get_by_role("button", name="Restore").click()
    page.goto(product.url + "/applications/shop/")
    expect(page.locator("#tile-eu-west-1")).to_have_attribute("data-health", "healthy",
                                                             timeout=150_000)
