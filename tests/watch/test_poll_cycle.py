"""The poll cycle against moto server: what it stores, and what a failure marks stale."""

import pytest

from regions.models import Region
from watch import pollers
from watch.models import (
    HealthChange,
    HealthSample,
    PollState,
    ReplicationRollup,
    ReplicationSample,
)

from .conftest import (
    create_table,
    deploy_regions,
    minute,
    publish_health,
    publish_lag,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(watch_aws, application, admin_user):
    regions = deploy_regions(application, ["us-east-1", "eu-west-1", "ap-southeast-2"], admin_user)
    create_table(application)
    return application, {r.code: r for r in regions}


def test_it_stores_one_health_sample_per_minute_with_status_and_share_of_checkers(orders):
    application, regions = orders
    hc = regions["eu-west-1"].health_check_id
    for offset in (-3, -2, -1):
        publish_health(hc, minute(offset), healthy=True, percentage=100)

    pollers.poll_cycle()
    pollers.poll_cycle()

    samples = list(HealthSample.objects.filter(region=regions["eu-west-1"]).order_by("at"))
    assert [s.at for s in samples] == [minute(-3), minute(-2), minute(-1)]
    assert {(s.status, s.percentage_healthy) for s in samples} == {(1.0, 100.0)}
    assert not HealthSample.objects.filter(region=regions["ap-southeast-2"]).exists()


def test_it_records_when_health_flips_and_not_while_it_stays(orders):
    application, regions = orders
    hc = regions["us-east-1"].health_check_id
    for offset in (-6, -5, -4):
        publish_health(hc, minute(offset), healthy=True)
    for offset in (-3, -2):
        publish_health(hc, minute(offset), healthy=False)
    pollers.poll_cycle()
    for offset in (-1, 0):
        publish_health(hc, minute(offset), healthy=True)
    pollers.poll_cycle()
    pollers.poll_cycle()

    changes = list(HealthChange.objects.filter(region=regions["us-east-1"]).order_by("at"))
    assert [(c.at, c.healthy, c.previous) for c in changes] == [
        (minute(-6), True, None),
        (minute(-3), False, True),
        (minute(-1), True, False),
    ]


def test_it_stores_lag_per_pair_and_stores_nothing_for_a_pair_without_writes(orders):
    application, regions = orders
    publish_lag("orders", "eu-west-1", "us-east-1", minute(-2), 800)
    publish_lag("orders", "eu-west-1", "us-east-1", minute(-1), 1200)
    publish_lag("orders", "us-east-1", "ap-southeast-2", minute(-1), 450)

    report = pollers.poll_cycle()

    pairs = sorted(ReplicationSample.objects.values_list("source", "receiving", "latency_ms"))
    assert pairs == [("eu-west-1", "us-east-1", 800.0), ("eu-west-1", "us-east-1", 1200.0),
                     ("us-east-1", "ap-southeast-2", 450.0)]
    assert report.lags[("orders", "ap-southeast-2", "eu-west-1")] is None
    rollups = ReplicationRollup.objects.filter(source="eu-west-1", receiving="us-east-1")
    assert sum(r.samples for r in rollups) == 2
    assert max(r.max_ms for r in rollups) == 1200.0


def test_an_unreachable_source_region_marks_only_its_own_lag_stale(orders, unreachable):
    application, regions = orders
    publish_lag("orders", "eu-west-1", "us-east-1", minute(-1), 900)
    publish_lag("orders", "us-east-1", "eu-west-1", minute(-1), 700)
    unreachable.add(region="eu-west-1")

    report = pollers.poll_cycle()

    failed = PollState.objects.get(key="replication:orders:eu-west-1")
    assert failed.failing and "cannot reach the endpoint" in failed.last_error
    fresh = PollState.objects.get(key="replication:orders:us-east-1")
    assert not fresh.failing and fresh.last_success_at is not None
    assert PollState.objects.get(key="health").last_success_at is not None
    assert list(ReplicationSample.objects.values_list("source", flat=True)) == ["us-east-1"]
    assert [key for key, _ in report.errors] == ["replication:orders:eu-west-1"]


def test_a_missing_table_marks_replica_state_stale_with_the_reason(watch_aws, application,
                                                                    admin_user):
    deploy_regions(application, ["us-east-1", "eu-west-1"], admin_user)

    pollers.poll_cycle()

    state = PollState.objects.get(key="replicas:orders")
    assert state.failing and "ResourceNotFoundException" in state.last_error
    assert not PollState.objects.get(key="health").failing


def test_planned_regions_are_not_polled(watch_aws, application, admin_user, aws_calls):
    deploy_regions(application, ["us-east-1"], admin_user)
    create_table(application)
    Region.objects.filter(application=application).update(state="planned")

    pollers.poll_cycle()

    assert aws_calls.calls == []
