"""The region page's watch section and the checker detail loaded on demand."""

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from lib import shared_redis
from watch import pollers, summary

from .conftest import minute, publish_health, publish_lag

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def budget(settings):
    conn = shared_redis.client()
    conn.delete(settings.ROUTE53_BUDGET_KEY)
    for key in conn.scan_iter("meridian:checkers:*"):
        conn.delete(key)
    yield conn
    conn.delete(settings.ROUTE53_BUDGET_KEY)


def test_it_shows_status_changes_and_lag_to_and_from_every_other_region(orders):
    application, regions = orders
    hc = regions["eu-west-1"].health_check_id
    publish_health(hc, minute(-4), healthy=True)
    publish_health(hc, minute(-2), healthy=False)
    publish_lag("orders", "eu-west-1", "us-east-1", minute(-1), 910)
    publish_lag("orders", "ap-southeast-2", "eu-west-1", minute(-1), 2500)
    pollers.poll_cycle()

    html = render_to_string("watch/_region_watch.html", summary.region_context(regions["eu-west-1"]))

    assert html.count("<tr><td><time") == 2
    assert "first reading" in html and f"{minute(-2):%Y-%m-%d %H:%M} UTC</time>" in html
    assert "910 ms" in html and "2.5 s" in html
    assert html.count("no data") == 2
    assert reverse("watch:checker_detail", args=["orders", "eu-west-1"]) in html


def test_checker_detail_asks_route53_once_and_then_answers_from_the_cache(
        client, viewer, orders, budget, aws_calls):
    client.force_login(viewer)
    url = reverse("watch:checker_detail", args=["orders", "eu-west-1"])

    first = client.get(url, **HTMX).content.decode()
    second = client.get(url, **HTMX).content.decode()

    assert "Success" in first and "checkers report success" in first and "(cached)" not in first
    assert "(cached)" in second
    assert aws_calls.by_service("route53") == [("route53", "GetHealthCheckStatus", "us-east-1")]


def test_checker_detail_says_try_again_shortly_when_the_budget_is_spent(
        client, viewer, orders, budget, settings):
    settings.ROUTE53_RATE = 0
    settings.ROUTE53_BUDGET_WAIT = 0.2
    client.force_login(viewer)

    response = client.get(reverse("watch:checker_detail", args=["orders", "us-east-1"]), **HTMX)

    assert response.status_code == 200
    assert "try again shortly" in response.content.decode()


def test_checker_detail_without_htmx_is_a_whole_page(client, viewer, orders, budget):
    client.force_login(viewer)
    response = client.get(reverse("watch:checker_detail", args=["orders", "us-east-1"]))
    assert "<html" in response.content.decode() and "Checker region" in response.content.decode()


def test_checker_detail_needs_the_viewer_role(client, nobody, orders):
    client.force_login(nobody)
    url = reverse("watch:checker_detail", args=["orders", "us-east-1"])
    assert client.get(url, **HTMX).status_code == 403
