"""Rollouts send the deployer's tasks by name: each name must be a task a worker runs."""

import pytest
from celery import current_app
from django.utils import timezone

from deployer import rollouts, tasks
from deployer.models import Deployment, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    messages = []

    def send_task(name, args=(), **options):
        messages.append((name, tuple(args)))

    monkeypatch.setattr(current_app, "send_task", send_task)
    return messages


def test_every_task_a_rollout_sends_is_a_deployer_task_on_the_deploys_queue(
        application, operator, make_deployment, sent, django_capture_on_commit_callbacks):
    d = make_deployment(application.regions.get(), {})
    Deployment.objects.filter(pk=d.pk).update(change_set_id="arn:change-set")

    with django_capture_on_commit_callbacks(execute=True):
        rollouts.queue_again(d)
        rollouts.follow_again(d)
        d.rollout.applied_at = timezone.now()
        rollouts.queue_again(d)
        assert rollouts.end(d.rollout, Status.CANCELLED)
        rollout = rollouts.start_deploy(application, operator)

    assert sent == [
        ("deployer.tasks.plan_deployment", (d.pk,)),
        ("deployer.tasks.follow_deployment", (d.pk,)),
        ("deployer.tasks.run_deployment", (d.pk,)),
        ("deployer.tasks.discard_change_sets", (d.rollout_id,)),
        ("deployer.tasks.plan_rollout", (rollout.pk,)),
    ]
    for name, _ in sent:
        assert current_app.tasks[name].__module__ == tasks.__name__
        assert current_app.amqp.router.route({}, name)["queue"].name == "deploys"


def test_nothing_is_sent_before_the_transaction_commits(application, operator, sent,
                                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        rollouts.start_plan(application, operator)

    assert sent == []
    assert len(callbacks) == 1
