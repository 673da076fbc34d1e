"""Pruning keeps the sample tables bounded."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from watch.models import (
    HealthChange,
    HealthSample,
    ReplicationRollup,
    ReplicationSample,
)
from watch.tasks import prune, prune_samples

pytestmark = pytest.mark.django_db


def test_it_deletes_samples_past_retention_in_batches_and_keeps_the_rest(application, settings):
    settings.SAMPLE_RETENTION_DAYS = 7
    settings.ROLLUP_RETENTION_DAYS = 90
    region = application.regions.get()
    now = timezone.now().replace(second=0, microsecond=0)
    ages = [timedelta(days=8, minutes=i) for i in range(7)] + [timedelta(days=6)]
    HealthSample.objects.bulk_create(HealthSample(region=region, at=now - a, status=1.0)
                                     for a in ages)
    ReplicationSample.objects.bulk_create(
        ReplicationSample(application=application, source="us-east-1", receiving="eu-west-1",
                          at=now - a, latency_ms=900) for a in ages)
    ReplicationRollup.objects.bulk_create(
        ReplicationRollup(application=application, source="us-east-1", receiving="eu-west-1",
                          bucket=now - timedelta(days=d), avg_ms=1, max_ms=1, samples=1)
        for d in (8, 91))
    HealthChange.objects.create(region=region, at=now - timedelta(days=100), healthy=True)

    deleted = prune(now=now, batch=3)

    assert deleted == {"health": 7, "replication": 7, "rollups": 1}
    assert list(HealthSample.objects.values_list("at", flat=True)) == [now - timedelta(days=6)]
    assert ReplicationSample.objects.count() == 1
    assert ReplicationRollup.objects.get().bucket == now - timedelta(days=8)
    assert HealthChange.objects.count() == 1


@pytest.mark.slow
def test_a_real_polling_worker_prunes_the_test_database(application, celery_worker_factory):
    region = application.regions.get()
    now = timezone.now().replace(second=0, microsecond=0)
    HealthSample.objects.create(region=region, at=now - timedelta(days=30), status=1.0)
    HealthSample.objects.create(region=region, at=now, status=1.0)
    celery_worker_factory("polling")

    prune_samples.delay()

    deadline = time.monotonic() + 30
    while HealthSample.objects.count() > 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert list(HealthSample.objects.values_list("at", flat=True)) == [now]
