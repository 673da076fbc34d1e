"""The dashboard fragments, after real poll cycles against moto server."""

import re

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from watch import pollers, summary

from .conftest import (
    deploy_regions,
    minute,
    publish_health,
    publish_lag,
)

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def tile(html: str, code: str) -> str:
    match = re.search(rf'<article[^>]*id="tile-{re.escape(code)}".*?</article>', html, re.S)
    assert match, f"no tile for {code}"
    return match.group(0)


def cell(html: str, source: str, receiving: str) -> str:
    match = re.search(rf'<td[^>]*data-pair="{source}:{receiving}">.*?</td>', html, re.S)
    assert match, f"no cell for {source}>{receiving}"
    return match.group(0)


def tiles(client) -> str:
    response = client.get(reverse("watch:region_tiles", args=["orders"]), **HTMX)
    assert response.status_code == 200
    return response.content.decode()


def test_a_region_goes_healthy_unhealthy_healthy_with_the_right_since(client, viewer, orders):
    application, regions = orders
    hc = regions["eu-west-1"].health_check_id
    client.force_login(viewer)
    for offset in (-8, -7, -6):
        publish_health(hc, minute(offset), healthy=True, percentage=100)
    pollers.poll_cycle()
    first = tile(tiles(client), "eu-west-1")
    assert "Healthy" in first and f"first reading <time datetime=\"{minute(-8).isoformat()}" in first

    for offset in (-5, -4):
        publish_health(hc, minute(offset), healthy=False, percentage=12)
    pollers.poll_cycle()
    second = tile(tiles(client), "eu-west-1")
    assert "Unhealthy" in second and f"{minute(-5):%H:%M} UTC</time>" in second
    assert "12% of checkers saw it healthy" in second

    for offset in (-3, -2):
        publish_health(hc, minute(offset), healthy=True, percentage=94)
    pollers.poll_cycle()
    third = tile(tiles(client), "eu-west-1")
    assert "Healthy" in third and "Unhealthy" not in third
    assert f"{minute(-3):%H:%M} UTC</time>" in third
    assert "No data" in tile(tiles(client), "ap-southeast-2")


def test_the_tiles_fragment_is_only_the_fragment_and_keeps_polling(client, viewer, orders):
    client.force_login(viewer)
    pollers.poll_cycle()
    html = tiles(client)
    assert html.lstrip().startswith('<div id="region-tiles"')
    assert "<html" not in html and "replication-matrix" not in html
    assert "every 5s" in html


def test_without_htmx_the_fragment_url_shows_the_whole_dashboard(client, viewer, orders):
    client.force_login(viewer)
    response = client.get(reverse("watch:region_tiles", args=["orders"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html and 'id="region-tiles"' in html and 'id="replication-matrix"' in html


def test_the_matrix_colours_lag_against_thresholds_and_shows_no_data(client, viewer, orders,
                                                                     settings):
    settings.LAG_WARN_MS, settings.LAG_CRIT_MS = 2000, 10000
    publish_lag("orders", "eu-west-1", "us-east-1", minute(-1), 850)
    publish_lag("orders", "us-east-1", "eu-west-1", minute(-1), 4200)
    publish_lag("orders", "us-east-1", "ap-southeast-2", minute(-1), 15000)
    pollers.poll_cycle()
    client.force_login(viewer)

    response = client.get(reverse("watch:replication_matrix", args=["orders"]), **HTMX)

    html = response.content.decode()
    assert 'class="lag-ok"' in cell(html, "eu-west-1", "us-east-1")
    assert "850 ms" in cell(html, "eu-west-1", "us-east-1")
    assert 'class="lag-warn"' in cell(html, "us-east-1", "eu-west-1")
    assert 'class="lag-crit"' in cell(html, "us-east-1", "ap-southeast-2")
    quiet = cell(html, "ap-southeast-2", "eu-west-1")
    assert "no data" in quiet and "0 ms" not in quiet
    assert "<svg" in cell(html, "eu-west-1", "us-east-1")


def test_an_unreachable_region_shows_stale_with_the_reason_while_others_stay_fresh(
        client, viewer, orders, unreachable):
    publish_lag("orders", "us-east-1", "eu-west-1", minute(-1), 700)
    unreachable.add(region="ap-southeast-2")
    pollers.poll_cycle()
    client.force_login(viewer)

    html = client.get(reverse("watch:replication_matrix", args=["orders"]), **HTMX)
    html = html.content.decode()

    rows = {m.group(1): m.group(0) for m in re.finditer(
        r'<tr[^>]*>\s*<th scope="row"><span class="mono">([a-z0-9-]+)</span>.*?</tr>', html, re.S)}
    assert "Stale:" in rows["ap-southeast-2"] and "cannot reach the endpoint" in rows[
        "ap-southeast-2"]
    assert "Stale" not in rows["us-east-1"] and "Stale" not in rows["eu-west-1"]
    assert "700 ms" in rows["us-east-1"]


def test_a_health_call_that_fails_for_one_identity_leaves_other_applications_fresh(
        client, viewer, orders, admin_user, unreachable):
    from .conftest import make_application

    other = make_application("billing", admin_user,
                             role_arn="arn:aws:iam::123456789012:role/meridian-billing")
    deploy_regions(other, ["us-east-1"], admin_user)
    unreachable.add(role_arn=other.role_arn)
    pollers.poll_cycle()
    client.force_login(viewer)

    billing = client.get(reverse("watch:region_tiles", args=["billing"]), **HTMX)
    billing = billing.content.decode()
    assert "Stale: " in tile(billing, "us-east-1") and "cannot reach" in tile(billing, "us-east-1")
    assert "Route 53 health" in billing
    assert "Stale" not in tile(tiles(client), "us-east-1")


def test_a_banner_says_so_when_no_poll_has_succeeded_for_three_intervals(client, viewer, orders,
                                                                         settings):
    settings.POLL_INTERVAL = 30
    client.force_login(viewer)
    # Just deployed: the first poll is on its way, which is not stale data.
    html = tiles(client)
    assert "Data may be out of date" not in html and "Waiting for the first poll" in html
    assert "Waiting" in tile(html, "eu-west-1")

    application, _ = orders
    application.regions.update(state_changed_at=timezone.now() - timezone.timedelta(minutes=5))
    html = tiles(client)
    assert "Data may be out of date" in html and "Route 53 health: never polled" in html

    pollers.poll_cycle()
    assert "Data may be out of date" not in tiles(client)

    from watch.models import PollState
    PollState.objects.filter(key="health").update(
        last_success_at=timezone.now() - timezone.timedelta(seconds=91))
    html = tiles(client)
    assert "Data may be out of date" in html and "Route 53 health: no successful poll" in html


def test_fragments_need_the_viewer_role(client, nobody, orders):
    client.force_login(nobody)
    for name in ("watch:region_tiles", "watch:replication_matrix"):
        assert client.get(reverse(name, args=["orders"]), **HTMX).status_code == 403


def test_the_dashboard_section_renders_from_dashboard_context_alone(orders):
    application, regions = orders
    context = summary.dashboard_context(
        application, last_rollouts={regions["eu-west-1"].pk: "succeeded 10:02"})
    html = render_to_string("watch/_dashboard.html", context)
    assert "Last rollout: succeeded 10:02" in tile(html, "eu-west-1")
    assert "Last rollout" not in tile(html, "us-east-1")
    assert 'id="region-tiles"' in html and 'id="replication-matrix"' in html



def test_a_share_of_checkers_that_disagrees_with_the_status_says_the_view_changed(
        client, viewer, orders):
    application, regions = orders
    # Unhealthy at some point in the minute, yet 63 % of checkers healthy on average.
    publish_health(regions["eu-west-1"].health_check_id, minute(-2), healthy=False,
                   percentage=63)
    pollers.poll_cycle()
    client.force_login(viewer)
    html = tile(tiles(client), "eu-west-1")
    assert "Unhealthy" in html
    assert "The checkers' view changed during that minute (63% healthy on average)" in html
    assert "63% of checkers saw it healthy" not in html
