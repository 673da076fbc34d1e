"""A new operator's first ten minutes, in Chromium against the product as `make run` runs it:
the README's steps, in its words and order."""

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


def deploy_and_apply(page, steps_at_least: int) -> None:
    """README step 3: Deploy… plans and shows every change set; Apply runs them."""
    page.get_by_role("button", name="Deploy…").click()
    expect(page).to_have_url(re.compile(r"/rollouts/\d+/"))
    status = page.locator("#rollout-status > p > [data-status]")
    expect(status).to_have_attribute("data-status", "planned", timeout=240_000)
    assert page.locator("table.steps tbody tr").count() >= steps_at_least
    page.screenshot(path=str(SHOTS / "plan.png"), full_page=True)
    page.get_by_role("button", name="Apply these changes").click()
    expect(status).to_have_attribute("data-status", "succeeded", timeout=240_000)


def served_by(page, client: str):
    return page.locator(f'#dns-matrix tr[data-client="{client}"]')


def drain_and_restore(page, product, code: str, goes_to: str) -> None:
    """The region page's Drain… button, its confirmation, the application page's "clients
    near → served by" matrix and tile; then Restore… and the answer back."""
    page.goto(product.url + "/applications/demo/")
    expect(page.get_by_role("heading", name="What DNS answers simulated")).to_be_visible()
    expect(served_by(page, code)).to_have_attribute("data-answer", code, timeout=60_000)
    page.goto(product.url + f"/applications/demo/regions/{code}/")
    page.get_by_role("link", name="Drain…").click()
    expect(page.get_by_role("heading", name=re.compile(f"Drain {code}"))).to_be_visible()
    page.fill("#id_reason", "walkthrough")
    page.get_by_role("button", name=f"Drain {code}").click()
    expect(page.get_by_text(re.compile(f"{code} is drained"))).to_be_visible()

    page.goto(product.url + "/applications/demo/")
    moved = served_by(page, code)
    expect(moved).to_have_attribute("data-answer", goes_to, timeout=60_000)
    expect(moved).to_contain_text("served by another region")
    expect(page.locator(f"#tile-{code} .signal")).to_have_text("Drained")
    expect(page.locator(".banner-signal")).to_contain_text(f"Drained: {code}")
    page.screenshot(path=str(SHOTS / "dns-drained.png"), full_page=True)

    page.goto(product.url + f"/applications/demo/regions/{code}/")
    page.get_by_role("link", name="Restore…").click()
    page.get_by_role("button", name=f"Restore {code}").click()
    expect(page.get_by_text(re.compile(f"{code} is restored"))).to_be_visible()
    page.goto(product.url + "/applications/demo/")
    expect(served_by(page, code)).to_have_attribute("data-answer", code, timeout=60_000)
    expect(page.locator(f"#tile-{code} .signal")).not_to_have_text("Drained", timeout=30_000)


def test_the_readme_first_ten_minutes_in_its_own_words(page, product):
    # 1. Log in.
    log_in(page, product)
    expect(page.get_by_text("Sandbox — local AWS emulator, no real resources")).to_be_visible()

    # 2. The demo: three regions, none deployed.
    page.get_by_role("link", name="Demo (sandbox)").click()
    for code in ("us-east-1", "eu-west-1", "ap-southeast-2"):
        expect(page.locator(f"#tile-{code} .signal")).to_have_text("Not deployed")

    # 3. Deploy… → review every region's change set → Apply these changes.
    deploy_and_apply(page, steps_at_least=3)
    page.screenshot(path=str(SHOTS / "rollout.png"), full_page=True)

    # 4. Healthy tiles and a filled matrix within a poll or two; history ranges.
    page.goto(product.url + "/applications/demo/")
    for code in ("us-east-1", "eu-west-1", "ap-southeast-2"):
        expect(page.locator(f"#tile-{code}")).to_have_attribute("data-health", "healthy",
                                                                timeout=150_000)
        expect(page.locator(f"#tile-{code} .signal")).to_have_text("Healthy")
    expect(page.locator('[data-pair="us-east-1:eu-west-1"] .lag')).to_have_text(
        re.compile(r"^\d+(\.\d)? (ms|s)$"), timeout=150_000)
    page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)
    page.get_by_role("link", name="7 days").click()
    expect(page.get_by_text("7 days", exact=True)).to_be_visible()

    # 5. Rehearse an outage: one tile unhealthy with a banner, the others healthy; restore.
    page.goto(product.url + "/applications/demo/regions/eu-west-1/")
    # The first plan bootstrapped the region for the sandbox app's default synthesizer.
    expect(page.locator("#bootstrap-status")).to_contain_text(
        re.compile(r"Bootstrapped \(version \d+\)"))
    page.get_by_role("button", name="Simulate outage").click()
    expect(page.get_by_text("Simulating: outage.")).to_be_visible()
    page.goto(product.url + "/applications/demo/")
    expect(page.locator("#tile-eu-west-1")).to_have_attribute("data-health", "unhealthy",
                                                             timeout=150_000)
    expect(page.locator(".banner-signal")).to_contain_text("1 of 3 regions unhealthy")
    expect(page.locator("#tile-us-east-1")).to_have_attribute("data-health", "healthy")
    page.screenshot(path=str(SHOTS / "dashboard-outage.png"), full_page=True)
    page.goto(product.url + "/applications/demo/regions/eu-west-1/")
    page.get_by_role("button", name="Restore").click()
    page.goto(product.url + "/applications/demo/")
    expect(page.locator("#tile-eu-west-1")).to_have_attribute("data-health", "healthy",
                                                             timeout=150_000)

    # 6. Drain a region from its button: the matrix sends its clients elsewhere; restore.
    drain_and_restore(page, product, "eu-west-1", goes_to="us-east-1")

    # 7. Add a region and deploy again: the main stack adds one replica, then the new stack.
    page.get_by_role("link", name="Add region").click()
    page.fill("#id_code", "eu-central-1")
    page.get_by_role("button", name="Add region").click()
    expect(page.get_by_text("eu-central-1 added to demo as a replica")).to_be_visible()
    deploy_and_apply(page, steps_at_least=2)
    page.goto(product.url + "/audit/?application=demo")
    expect(page.locator("tbody td", has_text="rollout.plan").first).to_be_visible()
    expect(page.locator("tbody td", has_text="region.add").first).to_be_visible()


def test_a_new_application_gets_sandbox_defaults_and_field_errors_on_blur(page, product):
    log_in(page, product)
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
