"""Drills on the pages and the API: the region page's button, the confirmation, the running
drill's card with its countdown, the history and its CSV, and the API's refusals."""

import pytest
from django.test import Client

from tests.api.conftest import Api
from traffic.models import Drill

from .conftest import set_health

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_operator_starts_a_drill_from_the_region_page_and_sees_its_countdown(
        records, application, operator, django_capture_on_commit_callbacks):
    web = logged_in(operator)
    page = web.get("/applications/orders/regions/eu-west-1/").content.decode()
    assert "Start drill…" in page

    confirm = web.get("/applications/orders/regions/eu-west-1/drill/")
    assert confirm.status_code == 200
    assert "restores it by itself" in confirm.content.decode()
    with django_capture_on_commit_callbacks():
        done = web.post("/applications/orders/regions/eu-west-1/drill/", {"minutes": "2"})
    drill = Drill.objects.get()
    assert done["Location"] == f"/drills/{drill.pk}/"

    card = web.get("/applications/orders/drills/card/?region=eu-west-1").content.decode()
    assert "Drill running" in card and 'hx-trigger="every 2s"' in card
    assert "restores by itself" in card and "in 1" in card  # 1xx seconds left
    overview = web.get("/applications/orders/").content.decode()
    assert f"drill {drill.pk} of eu-west-1" in overview
    history = web.get("/applications/orders/drills/").content.decode()
    assert f'href="/drills/{drill.pk}/"' in history
    csv = web.get("/applications/orders/drills/?format=csv").content.decode()
    assert csv.splitlines()[0].startswith("id,application,region,status,minutes")
    assert csv.splitlines()[1].startswith(f"{drill.pk},orders,eu-west-1,running,2,otto,web,")


def test_viewers_get_no_button_and_cannot_start_a_drill(records, application, viewer):
    web = logged_in(viewer)
    assert "Start drill…" not in web.get(
        "/applications/orders/regions/eu-west-1/").content.decode()
    assert web.post("/applications/orders/regions/eu-west-1/drill/",
                    {"minutes": "2"}).status_code == 403
    assert Api(viewer).post("/api/v1/applications/orders/drills",
                            {"region": "eu-west-1", "minutes": 1}).status_code == 403


def test_the_api_refuses_a_drill_the_guard_refuses_with_409_and_bad_minutes_with_400(
        records, application, operator):
    api = Api(operator)
    too_short = api.post("/api/v1/applications/orders/drills",
                         {"region": "eu-west-1", "minutes": 0.01})
    assert too_short.status_code == 400
    application.min_serving = 3
    application.save()
    set_health(records["us-east-1"], True)

    refused = api.post("/api/v1/applications/orders/drills",
                       {"region": "eu-west-1", "minutes": 1})

    assert refused.status_code == 409
    assert "needs at least 3 (min_serving)" in refused.json()["errors"]["__all__"][0]
    [drill] = api.get("/api/v1/applications/orders/drills").json()
    assert drill["status"] == "failed" and drill["explanation"].startswith("Refused:")
