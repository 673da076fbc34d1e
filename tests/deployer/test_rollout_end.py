"""Ending a rollout is one compare-and-set: the first caller wins and cancels the steps that
never started; every later caller is told it lost."""

import pytest

from accounts.audit import Actor
from deployer.models import Deployment, Rollout, Status
from regions.services import add_region

pytestmark = pytest.mark.django_db


@pytest.fixture
def rollout(application):
    add_region(application, "eu-west-1", Actor(None, "cli"))
    add_region(application, "ap-southeast-2", Actor(None, "cli"))
    rollout = Rollout.objects.create(application=application, status=Status.RUNNING)
    for step, (code, status) in enumerate([("us-east-1", Status.SUCCEEDED),
                                           ("eu-west-1", Status.QUEUED),
                                           ("ap-southeast-2", Status.PLANNED)]):
        Deployment.objects.create(rollout=rollout, region=application.regions.get(code=code),
                                  step=step, action="deploy_region", stack_name=code,
                                  status=status, explanation="as it was")
    return rollout


def steps(rollout):
    return list(rollout.deployments.order_by("step").values_list("status", "explanation"))


def test_the_first_caller_ends_the_rollout_and_cancels_the_steps_that_never_started(rollout):
    assert rollout.end(Status.ERROR, "Planning failed.", reason="Not run.")

    rollout.refresh_from_db()
    assert (rollout.status, rollout.explanation) == (Status.ERROR, "Planning failed.")
    assert rollout.finished_at is not None
    assert steps(rollout) == [(Status.SUCCEEDED, "as it was"), (Status.CANCELLED, "Not run."),
                              (Status.CANCELLED, "Not run.")]


def test_a_second_caller_is_told_it_lost_and_changes_nothing(rollout):
    late = Rollout.objects.get(pk=rollout.pk)
    assert rollout.end(Status.CANCELLED, "Cancelled.")

    assert not late.end(Status.FAILED, "Too late.")

    rollout.refresh_from_db()
    assert (rollout.status, rollout.explanation) == (Status.CANCELLED, "Cancelled.")
    assert [e for _, e in steps(rollout)] == ["as it was", "Cancelled.", "Cancelled."]


def test_a_rollout_in_a_state_the_caller_did_not_expect_is_left_alone(rollout):
    assert not rollout.end(Status.CANCELLED, "Cancelled.",
                           from_statuses=(Status.PLANNED, Status.AWAITING_CONFIRMATION))

    rollout.refresh_from_db()
    assert rollout.status == Status.RUNNING
    assert [s for s, _ in steps(rollout)] == [Status.SUCCEEDED, Status.QUEUED, Status.PLANNED]
