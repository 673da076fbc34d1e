"""History over a chosen range: buckets computed by the database, one row per bucket."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from watch import series
from watch.models import HealthSample, ReplicationRollup, ReplicationSample

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 30, 12, 7, 30, tzinfo=UTC)


def test_buckets_are_whole_steps_ending_with_the_current_one():
    assert series.start_of(series.RANGES["1h"], NOW) == datetime(2026, 11, 30, 11, 8, tzinfo=UTC)
    assert series.start_of(series.RANGES["6h"], NOW) == datetime(2026, 11, 30, 6, 10, tzinfo=UTC)
    assert series.start_of(series.RANGES["24h"], NOW) == datetime(2026, 11, 29, 13, tzinfo=UTC)
    assert series.start_of(series.RANGES["7d"], NOW) == datetime(2026, 11, 23, 18, tzinfo=UTC)


def test_an_unknown_range_is_the_default():
    assert series.parse_range("1h").key == "1h"
    assert series.parse_range("forever") is series.DEFAULT
    assert series.parse_range(None) is series.DEFAULT


def test_health_is_the_share_of_healthy_minutes_per_bucket(application):
    region = application.regions.get()
    minute = NOW.replace(second=0)
    # The last 5-minute bucket (12:05-12:07): two healthy minutes of three.
    for offset, status in ((0, 1.0), (1, 0.0), (2, 1.0), (10, 1.0), (180, 0.0)):
        HealthSample.objects.create(region=region, at=minute - timedelta(minutes=offset),
                                    status=status)

    one_hour = series.health_series([region.pk], series.RANGES["1h"], NOW)[region.pk]
    assert len(one_hour) == 60 and one_hour[-1] == 1.0 and one_hour[-2] == 0.0
    assert one_hour[-11] == 1.0 and one_hour[0] is None

    six_hours = series.health_series([region.pk], series.RANGES["6h"], NOW)[region.pk]
    assert len(six_hours) == 72
    assert six_hours[-1] == pytest.approx(2 / 3)
    assert six_hours[-37] == 0.0  # three hours back

    week = series.health_series([region.pk], series.RANGES["7d"], NOW)[region.pk]
    assert len(week) == 28 and week[-1] == pytest.approx(2 / 3)


def test_lag_reads_minutes_for_short_ranges_and_rollups_for_long_ones(application):
    minute = NOW.replace(second=0)
    for offset, ms in ((0, 800.0), (1, 1200.0)):
        ReplicationSample.objects.create(application=application, source="us-east-1",
                                         receiving="eu-west-1", at=minute - timedelta(minutes=offset),
                                         latency_ms=ms)
    ReplicationRollup.objects.create(application=application, source="us-east-1",
                                     receiving="eu-west-1", bucket=NOW.replace(minute=0, second=0)
                                     - timedelta(days=2), avg_ms=3000, max_ms=4000, samples=60)

    hour = series.lag_series(application.pk, series.RANGES["1h"], NOW)
    assert hour[("us-east-1", "eu-west-1")][-2:] == [1200.0, 800.0]
    week = series.lag_series(application.pk, series.RANGES["7d"], NOW)
    assert week[("us-east-1", "eu-west-1")].count(3000.0) == 1
    only = series.lag_series(application.pk, series.RANGES["1h"], NOW, {"ap-southeast-2"})
    assert only == {}


def test_the_pages_offer_every_range_and_keep_the_chosen_one_when_refreshing(client, viewer,
                                                                           application):
    client.force_login(viewer)
    html = client.get(reverse("watch:dashboard", args=["orders"]) + "?range=6h").content.decode()
    assert '<strong aria-current="true">6 h</strong>' in html
    assert 'href="?range=7d"' in html and "?range=6h" in html
    region = client.get(reverse("front:region_detail", args=["orders", "us-east-1"])
                        + "?range=1h").content.decode()
    assert "per minute, last 1 h" in region
