"""Drills on real Celery workers against moto over HTTP: a short drill started from the API
restores by itself and reports its measured times; a drill whose worker is killed is still
restored, by beat's task on a second worker."""


import pytest
from django.utils import timezone

from accounts.audit import Actor
from tests.api.conftest import Api
from tests.deployer.test_worker_faults import wait_until
from traffic import drill_tasks, drills
from traffic.models import Drill, DrillStatus

from .conftest import threshold_of

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ENV = {"SANDBOX": 1, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
       "DRILL_POLL_INTERVAL": "0.2", "DRILL_MEASURE_TIMEOUT": "30"}


def status_of(drill_id: int) -> str:
    return Drill.objects.get(pk=drill_id).status


def test_a_short_drill_from_the_api_restores_by_itself_with_its_measured_times(
        records, application, operator, celery_worker_factory):
    celery_worker_factory("default", **ENV)
    api = Api(operator, "bearer")

    started = api.post("/api/v1/applications/orders/drills",
                       {"region": "eu-west-1", "minutes": 0.1})

    assert started.status_code == 201, started.json()
    drill_id = started.json()["id"]
    assert started.json()["status"] == "running"
    assert threshold_of(records["eu-west-1"]) == 3
    wait_until(lambda: status_of(drill_id) != DrillStatus.RUNNING, what="the drill to end")
    body = api.get(f"/api/v1/drills/{drill_id}").json()
    assert body["status"] == "restored"
    assert body["seconds_to_dns_shift"] >= 0 and body["seconds_to_restore"] >= 0
    assert [e["kind"] for e in body["timeline"]] == [
        "requested", "route53_updated", "alarm_set", "routing_unhealthy", "dns_shifted",
        "restore_requested", "restored", "answers_back"]
    assert threshold_of(records["eu-west-1"]) == 2
    csv = api.get("/api/v1/applications/orders/drills?format=csv")
    assert csv["Content-Type"].startswith("text/csv")
    assert f"\r\n{drill_id},orders,eu-west-1,restored," in csv.content.decode()


def test_a_drill_whose_worker_was_killed_is_restored_by_beats_task_on_another_worker(
        records, application, operator, celery_worker_factory):
    doomed = celery_worker_factory("default", **ENV)
    drill = drills.start(application, "eu-west-1", 10, Actor(operator))
    wait_until(lambda: Drill.objects.get(pk=drill.pk).shifted_at, what="the DNS shift")

    doomed.kill()
    # Its time is up while no worker runs: the countdown task died with its worker.
    Drill.objects.filter(pk=drill.pk).update(ends_at=timezone.now())
    celery_worker_factory("default", **ENV)
    report = drill_tasks.settle_drills.delay().get(timeout=60)

    assert report == [f"drill {drill.pk}: restored"]
    drill.refresh_from_db()
    assert drill.status == DrillStatus.RESTORED
    assert drill.seconds_to_restore is not None
    assert threshold_of(records["eu-west-1"]) == 2
