"""Every page fits a phone (390 px) and a laptop (1280 px): no page-wide horizontal overflow.
Screenshots of each land in var/screenshots/ to be looked at."""

import pytest

from tests.browser.conftest import SHOTS
from tests.browser.test_walkthrough import log_in

pytestmark = pytest.mark.slow

PAGES = {
    "applications": "/",
    "overview": "/applications/demo/",
    "region": "/applications/demo/regions/eu-west-1/",
    "watch": "/watch/demo/",
    "rollouts": "/applications/demo/rollouts/",
    "audit": "/audit/",
    "profile": "/profile/",
    "new-application": "/applications/new/",
    "add-region": "/applications/demo/regions/new/",
}

# The elements sticking out past the right edge, for the failure message.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    let scrolled = false;
    for (let p = el.parentElement; p; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (p.scrollWidth > p.clientWidth && /(auto|scroll|hidden)/.test(style.overflowX)) {
        scrolled = true; break;
      }
    }
    if (!scrolled && box.right > width + 1 && box.width > 0) {
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
               (el.className && typeof el.className === 'string' ? '.' + el.className : ''));
    }
  }
  return {scroll: document.documentElement.scrollWidth, width, out: out.slice(0, 8)};
}"""


@pytest.mark.parametrize("width", [390, 1280])
def test_no_page_is_wider_than_the_screen(browser, product, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        log_in(page, product)
        SHOTS.mkdir(parents=True, exist_ok=True)
        too_wide = {}
        for name, path in PAGES.items():
            response = page.goto(product.url + path)
            assert response.status == 200, path
            page.screenshot(path=str(SHOTS / f"layout-{name}-{width}.png"), full_page=True)
            found = page.evaluate(OVERFLOW)
            if found["scroll"] > found["width"] or found["out"]:
                too_wide[name] = found
        assert not too_wide, too_wide
    finally:
        context.close()


def test_the_favicon_and_the_navigation_reach_every_part(page, product):
    log_in(page, product)
    assert page.locator("link[rel=icon]").get_attribute("href").endswith(".svg")
    page.goto(product.url + "/applications/demo/")
    nav = page.get_by_role("navigation", name="Demo (sandbox)")
    for name in ("Overview", "Health and replication", "Rollouts", "Audit trail"):
        assert nav.get_by_role("link", name=name).count() == 1, name
    assert page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="API docs").count() == 1
