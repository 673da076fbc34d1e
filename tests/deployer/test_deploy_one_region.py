"""One region deployed alone with a release label, by a real worker against moto."""

import time

import pytest

from accounts.audit import Actor
from deployer import rollouts
from deployer.models import Status
from lib import aws

from .test_orchestration import WORKER_ENV, in_inventory, steps, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def release(region: str) -> str:
    ssm = aws.client("ssm", region)
    return ssm.get_parameter(Name=f"/orders/{region}/release")["Parameter"]["Value"]


def test_a_region_deployed_alone_gets_the_label_as_its_release_and_the_others_stay(
        aws, application, operator, celery_worker_factory):
    in_inventory(application, "eu-west-1", "ap-northeast-1")
    celery_worker_factory("deploys", **WORKER_ENV)
    assert wait_for(rollouts.start_deploy(application, operator)).status == Status.SUCCEEDED

    plan = rollouts.start_plan(application, operator, Actor(operator), "eu-west-1", label="v42")
    rollouts.apply(wait_for_planned(plan), operator)
    done = wait_for(plan)

    assert done.status == Status.SUCCEEDED, done.explanation
    assert [(d.region.code, d.action) for d in steps(done)] == [("eu-west-1", "deploy_region")]
    assert release("eu-west-1") == "v42"
    assert release("ap-northeast-1") == "1"
    assert release("us-east-1") == "1"


def wait_for_planned(rollout, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rollout.refresh_from_db()
        if rollout.status == Status.PLANNED:
            return rollout
        assert not rollout.is_finished, rollout.explanation
        time.sleep(0.2)
    raise AssertionError(f"rollout {rollout.pk} still {rollout.status}")
