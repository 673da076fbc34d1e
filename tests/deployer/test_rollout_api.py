"""Rollouts over the JSON API."""

import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from accounts.audit import Actor
from deployer.models import Deployment, Rollout, Status
from regions.services import add_region
from tests.api.conftest import Api

from .test_orchestration import WORKER_ENV, wait_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(application):
    rollout = Rollout.objects.create(application=application, kind="deploy",
                                     status=Status.RUNNING, started_at=timezone.now(),
                                     applied_at=timezone.now())
    d = Deployment.objects.create(
        rollout=rollout, region=application.regions.get(), step=0, action="update_main",
        stack_name="orders-us-east-1", status=Status.RUNNING, started_at=timezone.now(),
        changes=[{"logical_id": "Table", "type": "AWS::DynamoDB::Table", "action": "Remove",
                  "replacement": False, "stateful_flag": True}],
        resources_total=1, outputs={"HealthCheckId": "abc"},
    )
    for n in range(3):
        d.log(f"line {n + 1}")
    return rollout


def test_a_viewer_reads_a_rollout_with_its_deployments_changes_and_outputs(viewer, running):
    response = Api(viewer).get(f"/api/v1/rollouts/{running.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "running"
    [d] = body["deployments"]
    assert (d["region"], d["action"], d["status"]) == ("us-east-1", "update_main", "running")
    assert d["changes"][0]["stateful_flag"] is True
    assert d["outputs"] == {"HealthCheckId": "abc"}


def test_events_are_returned_after_a_cursor_and_say_when_to_stop(viewer, running):
    api = Api(viewer)
    first = api.get(f"/api/v1/rollouts/{running.pk}/events").json()

    rest = api.get(f"/api/v1/rollouts/{running.pk}/events?after={first['events'][0]['id']}")

    assert [e["message"] for e in first["events"]] == ["line 1", "line 2", "line 3"]
    assert first["active"] is True
    assert [e["message"] for e in rest.json()["events"]] == ["line 2", "line 3"]
    running.end(Status.SUCCEEDED)
    done = api.get(f"/api/v1/rollouts/{running.pk}/events?after={first['after']}").json()
    assert done == {"events": [], "after": first["after"], "active": False}


def test_a_deploy_while_one_is_active_answers_409_with_the_active_rollout(operator, running):
    response = Api(operator).post(f"/api/v1/applications/{running.application.slug}/deploy")

    assert response.status_code == 409
    assert response.json()["active_rollout"] == running.pk
    assert "already running" in response.json()["errors"]["__all__"][0]


def test_a_plan_request_creates_a_queued_plan(operator, application):
    response = Api(operator).post(f"/api/v1/applications/{application.slug}/plans")

    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["status"], body["requested_by"]) == ("plan", "queued", "otto")
    assert Rollout.objects.get().pk == body["id"]


@pytest.mark.parametrize("path", ["applications/orders/plans", "applications/orders/deploy"])
def test_viewers_cannot_start_rollouts(viewer, application, path):
    response = Api(viewer).post(f"/api/v1/{path}")

    assert response.status_code == 403
    assert not Rollout.objects.exists()


def test_cancel_requests_the_stop_and_a_second_cancel_is_refused(operator, running):
    api = Api(operator)

    first = api.post(f"/api/v1/rollouts/{running.pk}/cancel")
    second = api.post(f"/api/v1/rollouts/{running.pk}/cancel")

    assert first.status_code == 200
    running.refresh_from_db()
    assert running.cancel_requested_at is not None
    assert second.status_code == 409
    assert "nothing to cancel" in second.json()["errors"]["__all__"][0]


def test_applying_a_plan_with_stateful_changes_asks_for_confirmation(operator, running):
    Rollout.objects.filter(pk=running.pk).update(status=Status.AWAITING_CONFIRMATION)

    response = Api(operator).post(f"/api/v1/plans/{running.pk}/apply")

    assert response.status_code == 409
    assert "confirm" in response.json()["errors"]["__all__"][0]


def test_an_unknown_rollout_is_404(viewer, db):
    assert Api(viewer).get("/api/v1/rollouts/999").status_code == 404


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_api_deploys_run_one_rollout_and_answer_409_to_the_rest(
        aws, application, operator, celery_worker_factory):
    add_region(application, "eu-west-1", Actor(None, "cli"))
    application.regions.update(state="active")
    celery_worker_factory("deploys", **WORKER_ENV)
    clients = [Api(operator) for _ in range(20)]
    answers: list = []
    barrier = threading.Barrier(20)

    def request(api):
        try:
            barrier.wait()
            answers.append(api.post(f"/api/v1/applications/{application.slug}/deploy"))
        finally:
            connection.close()

    threads = [threading.Thread(target=request, args=(c,)) for c in clients]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120 - (time.monotonic() - started))

    codes = sorted(a.status_code for a in answers)
    assert codes == [201] + [409] * 19
    [created] = [a.json() for a in answers if a.status_code == 201]
    assert {a.json()["active_rollout"] for a in answers if a.status_code == 409} <= {
        created["id"], None}
    rollout = wait_for(Rollout.objects.get(pk=created["id"]))
    assert rollout.status == Status.SUCCEEDED, rollout.explanation
    assert Rollout.objects.count() == 1
