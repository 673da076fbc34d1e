"""A long AWS error (ARNs, tokens with no spaces) wraps inside its card in Chromium."""

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import sync_playwright

from deployer.models import Deployment, Rollout, Status
from tests.browser.conftest import CHROMIUM_ARGS

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ARN = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/meridian-1-0/" + "0a1b2c3d" * 30
ERROR = (f"CloudFormation could not execute the change set: CloudFormation in us-east-1: "
         f"ValidationError: {ARN} does not exist. Trying again will not help until the cause "
         "is fixed.")


@pytest.fixture
def failed_rollout(application):
    rollout = Rollout.objects.create(application=application, kind="deploy",
                                     status=Status.FAILED, started_at=timezone.now(),
                                     finished_at=timezone.now(), explanation=f"us-east-1: {ERROR}")
    d = Deployment.objects.create(
        rollout=rollout, region=application.regions.get(), step=0, action="update_main",
        stack_name="orders-us-east-1", status=Status.FAILED, started_at=timezone.now(),
        finished_at=timezone.now(), explanation=ERROR)
    d.log(ERROR, level="error")
    return rollout


def overflowing(page) -> list[str]:
    """Elements whose content reaches past their own box, and whether the page scrolls sideways."""
    return page.evaluate("""() => {
        const wide = [...document.querySelectorAll('.card, .explanation, .log')]
            .filter(e => e.scrollWidth > e.clientWidth + 1)
            .map(e => e.className);
        if (document.documentElement.scrollWidth > window.innerWidth) wide.push('page');
        return wide;
    }""")


def test_a_long_error_wraps_inside_its_card_on_the_rollout_page(live_server, admin_user,
                                                                  failed_rollout, chromium):
    client = Client()
    client.force_login(admin_user)
    session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    target = failed_rollout.get_absolute_url()

    # Started after the database work: Playwright's sync API runs an event loop in this thread.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 900, "height": 900})
        context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "value": session,
                              "url": live_server.url}])
        page = context.new_page()
        page.goto(live_server.url + target)
        shown = page.get_by_text("ValidationError: arn:aws:", exact=False).first.is_visible()
        wide = overflowing(page)
        browser.close()

    assert shown
    assert wide == []
