"""GET /api/v1/applications/{slug}/dns, the application page's "clients near → served by"
matrix, and the tiles and banner of a drained or forced region."""

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.audit import Actor
from tests.api.conftest import Api
from traffic import services
from traffic.dns_tasks import refresh_application_dns

pytestmark = pytest.mark.django_db
URL = "/api/v1/applications/orders/dns"


def test_a_viewer_reads_who_serves_the_clients_near_each_region(answering, viewer):
    answer = Api(viewer).get(URL)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["simulated"] is True and body["checked_at"]
    assert body["answers"] == [
        {"client": "us-east-1", "answer": "us-east-1", "simulated": True, "note": ""},
        {"client": "ap-southeast-2", "answer": "ap-southeast-2", "simulated": True, "note": ""},
        {"client": "eu-west-1", "answer": "eu-west-1", "simulated": True, "note": ""},
    ]


def test_the_answers_follow_a_drain(answering, application, operator, viewer):
    services.change_traffic(application, "eu-west-1", "drain", Actor(operator))
    answers = {a["client"]: a["answer"] for a in Api(viewer).get(URL).json()["answers"]}
    assert answers["eu-west-1"] == "us-east-1"


def test_an_unknown_application_or_no_login_is_refused(answering):
    assert Api(None).get(URL).status_code == 401
    assert Client().get("/applications/orders/dns/").status_code == 302


def test_the_application_page_polls_the_matrix_and_the_fragment_shows_it(answering, application,
                                                                         viewer):
    client = Client()
    client.force_login(viewer)
    page = client.get("/applications/orders/").content.decode()
    assert 'id="dns-matrix"' in page and "What DNS answers" in page
    assert 'hx-trigger="load, every 10s"' in page  # nothing read yet: asked once loaded

    # The fragment never asks Route 53 itself: it has a worker read the answers, once.
    fragment = client.get("/applications/orders/dns/", HTTP_HX_REQUEST="true").content.decode()
    assert "Asking what Route 53 answers" in fragment and 'hx-trigger="every 2s"' in fragment
    assert cache.get(f"traffic:dns:queued:{application.pk}") is True
    assert cache.get(f"traffic:dns:{application.pk}") is None
    refresh_application_dns(application.pk)  # what the worker runs
    assert cache.get(f"traffic:dns:queued:{application.pk}") is None

    fragment = client.get("/applications/orders/dns/", HTTP_HX_REQUEST="true").content.decode()
    assert '<tr data-client="eu-west-1" data-answer="eu-west-1">' in fragment
    assert "Simulated</strong> (sandbox)" in fragment

    page = client.get("/applications/orders/").content.decode()
    assert 'hx-trigger="every 10s"' in page and 'data-client="eu-west-1"' in page


def test_a_drained_region_is_unmistakable_on_its_tile_and_in_the_banner(answering, application,
                                                                        operator, viewer):
    services.change_traffic(application, "eu-west-1", "drain", Actor(operator))
    client = Client()
    client.force_login(viewer)
    refresh_application_dns(application.pk)  # the answers the banner names
    tiles = client.get("/applications/orders/tiles/", HTTP_HX_REQUEST="true")
    tile = next(t for t in tiles.context["tiles"] if t["code"] == "eu-west-1")
    assert (tile["signal"].word, tile["signal"].level) == ("Drained", "warn")
    html = tiles.content.decode()
    assert 'data-traffic="drained"' in html
    assert "Route 53 sends its clients elsewhere (drained by an operator)." in html
    banner = tiles.context["application_signal"]
    assert banner.word == "Drained: eu-west-1"
    assert banner.detail == "Clients near eu-west-1 are answered with us-east-1."
    matrix = client.get("/applications/orders/dns/").content.decode()
    assert '<tr data-client="eu-west-1" data-answer="us-east-1">' in matrix
    assert "served by another region" in matrix


def test_a_forced_region_is_loud_on_its_tile(answering, application, admin_user, viewer):
    services.change_traffic(application, "ap-southeast-2", "force", Actor(admin_user))
    client = Client()
    client.force_login(viewer)
    tiles = client.get("/applications/orders/tiles/", HTTP_HX_REQUEST="true")
    tile = next(t for t in tiles.context["tiles"] if t["code"] == "ap-southeast-2")
    assert (tile["signal"].word, tile["signal"].level) == ("Forced serving", "bad")
    assert tiles.context["application_signal"].level == "bad"
    assert tiles.context["application_signal"].word == "Forced serving: ap-southeast-2"
    assert tiles.context["application_signal"].detail == (
        "ap-southeast-2 forced to serve: Route 53 counts it healthy whatever the health checks "
        "say.")
