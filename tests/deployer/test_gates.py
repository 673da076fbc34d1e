"""Between two waves of a deploy: the bake (health and alarms stay good for the bake time)
and the approval after the main region, run by a real worker against moto."""

import time

import pytest
from django.utils import timezone

from accounts.models import AuditEntry
from deployer import gates, rollouts
from deployer.models import Gate, Status
from lib import aws
from tests.api.conftest import Api
from watch.models import HealthSample

from .test_orchestration import WORKER_ENV, in_inventory, steps, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

GATE_ENV = {**WORKER_ENV, "BAKE_CHECK_INTERVAL": "0.3"}


def wait_for_gate(rollout, gate, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rollout.refresh_from_db()
        if rollout.gate == gate:
            return rollout
        assert not rollout.is_finished, (rollout.status, rollout.explanation)
        time.sleep(0.2)
    raise AssertionError(f"rollout {rollout.pk} never waited for {gate}: {rollout.gate}")


def test_a_rollout_waits_for_approval_after_the_main_region_and_goes_on_when_approved(
        aws, application, operator, celery_worker_factory):
    in_inventory(application, "eu-west-1", "ap-northeast-1")
    celery_worker_factory("deploys", **GATE_ENV)

    rollout = wait_for_gate(rollouts.start_deploy(application, operator, require_approval=True),
                            Gate.APPROVAL)

    main, *others = steps(rollout)
    assert (rollout.status, rollout.status_label) == (Status.RUNNING, "Waiting for approval")
    assert main.status == Status.SUCCEEDED
    assert [d.status for d in others] == [Status.PLANNED, Status.PLANNED]
    response = Api(operator).post(f"/api/v1/rollouts/{rollout.pk}/approve")
    assert response.status_code == 200, response.json()
    assert response.json()["approved_by"] == "otto"
    done = wait_for(rollout)
    assert done.status == Status.SUCCEEDED, done.explanation
    assert all(d.status == Status.SUCCEEDED for d in steps(done))
    assert AuditEntry.objects.filter(action="rollout.approve", object_id=str(rollout.pk)).exists()


def test_cancelling_a_rollout_waiting_for_approval_stops_the_other_regions(
        aws, application, operator, celery_worker_factory):
    in_inventory(application, "eu-west-1")
    celery_worker_factory("deploys", **GATE_ENV)
    rollout = wait_for_gate(rollouts.start_deploy(application, operator, require_approval=True),
                            Gate.APPROVAL)

    rollouts.cancel(rollout, operator)

    done = wait_for(rollout)
    assert done.status == Status.CANCELLED
    assert [d.status for d in steps(done)] == [Status.SUCCEEDED, Status.CANCELLED]
    with pytest.raises(rollouts.NotAllowed, match="nothing to approve"):
        rollouts.approve(done, operator)


def test_an_unhealthy_region_during_the_bake_stops_the_rollout_before_the_next_wave(
        aws, application, operator, celery_worker_factory):
    in_inventory(application, "eu-west-1")
    application.bake_seconds = 30
    application.save()
    celery_worker_factory("deploys", **GATE_ENV)
    rollout = wait_for_gate(rollouts.start_deploy(application, operator), Gate.BAKE)
    # The main region's minute during the bake is unhealthy (made once the bake has begun, so
    # it falls within the bake whatever second of the minute the test runs at).
    HealthSample.objects.create(region=application.regions.get(code="us-east-1"),
                                at=timezone.now().replace(second=0, microsecond=0), status=0.0,
                                percentage_healthy=0.0)

    done = wait_for(rollout)

    assert done.status == Status.FAILED
    assert done.explanation.startswith("Stopped before the next wave: during the bake after "
                                       "wave 0, us-east-1 was unhealthy at ")
    assert "Roll back to an earlier rollout" in done.explanation
    main, replica = steps(done)
    assert (main.status, replica.status) == (Status.SUCCEEDED, Status.CANCELLED)
    assert replica.executed_at is None


def test_a_bake_that_stays_healthy_lets_the_next_wave_run(
        aws, application, operator, celery_worker_factory):
    in_inventory(application, "eu-west-1")
    application.bake_seconds = 1
    application.save()
    celery_worker_factory("deploys", **GATE_ENV)

    done = wait_for(rollouts.start_deploy(application, operator))

    assert done.status == Status.SUCCEEDED, done.explanation
    main, replica = steps(done)
    assert main.events.filter(message__startswith="Baking 1 s: watching the health of "
                                                  "us-east-1").exists()
    assert main.events.filter(message__startswith="Bake passed").exists()
    assert replica.started_at >= main.finished_at + timezone.timedelta(seconds=1)
    assert done.baked_waves == 1


def test_an_alarm_in_alarm_stops_the_rollout_and_is_a_rollback_trigger_of_the_change_set(
        aws, application, operator, celery_worker_factory):
    in_inventory(application, "eu-west-1")
    cloudwatch = aws_client("cloudwatch", "us-east-1")
    cloudwatch.put_metric_alarm(
        AlarmName="HighErrors", MetricName="5XXError", Namespace="AWS/ApiGateway",
        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold")
    cloudwatch.set_alarm_state(AlarmName="HighErrors", StateValue="ALARM",
                               StateReason="Threshold crossed")
    application.alarms = ["HighErrors"]
    application.bake_seconds = 120
    application.save()
    celery_worker_factory("deploys", **GATE_ENV)

    done = wait_for(rollouts.start_deploy(application, operator))

    assert done.status == Status.FAILED
    assert "alarm HighErrors in us-east-1 is in ALARM (Threshold crossed)" in done.explanation
    assert [d.status for d in steps(done)] == [Status.SUCCEEDED, Status.CANCELLED]


def aws_client(service, region):
    return aws.client(service, region)


def test_the_alarms_of_a_region_become_its_change_sets_rollback_triggers(application):
    application.alarms = ["HighErrors",
                          "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:Latency"]
    application.bake_seconds = 150

    assert gates.rollback_configuration(application, "eu-west-1") == {
        "RollbackTriggers": [
            {"Arn": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:HighErrors",
             "Type": "AWS::CloudWatch::Alarm"},
            {"Arn": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:Latency",
             "Type": "AWS::CloudWatch::Alarm"}],
        "MonitoringTimeInMinutes": 3}
    assert gates.rollback_configuration(application, "us-east-1")["RollbackTriggers"] == [
        {"Arn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighErrors",
         "Type": "AWS::CloudWatch::Alarm"}]
    application.alarms = []
    assert gates.rollback_configuration(application, "us-east-1") is None


def test_a_steps_change_set_request_carries_the_rollback_triggers(application,
                                                                  make_deployment):
    from deployer import publishing
    from deployer.cloudformation import Engine

    application.alarms = ["HighErrors"]
    application.bake_seconds = 60
    application.save()
    d = make_deployment(application.regions.get(), {"Resources": {}})

    request = publishing.request_for(Engine(d))

    assert request.options["rollback"] == {
        "RollbackTriggers": [{"Arn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:HighErrors",
                              "Type": "AWS::CloudWatch::Alarm"}],
        "MonitoringTimeInMinutes": 1}
