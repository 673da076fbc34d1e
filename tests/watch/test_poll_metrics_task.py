"""The poll_metrics task: routed to the polling queue, one cycle at a time."""

import pytest

from controlplane.celery import app
from lib import shared_redis
from watch.models import PollState
from watch.tasks import LOCK_KEY, poll_metrics

from .conftest import create_table, deploy_regions

pytestmark = pytest.mark.django_db


@pytest.fixture
def lock():
    conn = shared_redis.client()
    conn.delete(LOCK_KEY)
    yield conn
    conn.delete(LOCK_KEY)


def test_it_is_routed_to_the_polling_queue_and_expires_before_the_next_cycle():
    assert app.amqp.router.route({}, poll_metrics.name)["queue"].name == "polling"
    assert 0 < poll_metrics.expires < 30


def test_it_runs_a_cycle_when_no_other_cycle_holds_the_lock(watch_aws, application, admin_user,
                                                            lock):
    deploy_regions(application, ["us-east-1", "eu-west-1"], admin_user)
    create_table(application)

    summary = poll_metrics()

    assert summary == {"calls": 4, "errors": [], "regions": 2, "pairs": 2}
    assert PollState.objects.get(key="health").last_success_at is not None
    assert not lock.exists(LOCK_KEY)


def test_it_steps_aside_while_another_cycle_is_running(watch_aws, application, admin_user, lock):
    deploy_regions(application, ["us-east-1"], admin_user)
    lock.set(LOCK_KEY, "another worker", ex=60)

    assert poll_metrics() == {"skipped": True}
    assert not PollState.objects.exists()


@pytest.mark.slow
def test_a_worker_on_the_polling_queue_runs_the_cycle(watch_aws, application, admin_user,
                                                      celery_worker_factory):
    import time

    deploy_regions(application, ["us-east-1", "eu-west-1"], admin_user)
    create_table(application)
    celery_worker_factory("polling", AWS_ACCESS_KEY_ID="testing",
                          AWS_SECRET_ACCESS_KEY="testing", AWS_MAX_ATTEMPTS=1)

    poll_metrics.apply_async()

    # The replica state is the last thing a cycle writes.
    deadline = time.monotonic() + 60
    while (time.monotonic() < deadline
           and not PollState.objects.filter(key="replicas:orders").exists()):
        time.sleep(0.2)
    state = PollState.objects.get(key="health")
    assert state.last_success_at is not None and not state.failing
    assert PollState.objects.get(key="replicas:orders").detail["table_status"] == "ACTIVE"


def test_with_a_shared_cache_the_cycle_leaves_the_sparklines_ready_for_the_dashboard(
        watch_aws, application, admin_user, lock, settings):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from watch import summary

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": settings.TEST_REDIS_URL,
                                   "KEY_PREFIX": "watch-tests"}}
    cache.clear()
    deploy_regions(application, ["us-east-1", "eu-west-1"], admin_user)
    create_table(application)

    poll_metrics()

    with CaptureQueriesContext(connection) as captured:
        summary.dashboard_context(application)
    # The regions and the poll states; the series come from the cache.
    assert len(captured) == 2
    cache.clear()
