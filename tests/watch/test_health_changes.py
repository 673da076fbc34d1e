from collections import defaultdict
from datetime import UTC, datetime

from regions.models import Region, RegionState
from watch.models import HealthChange
from watch.pollers import record_health_changes

T0 = datetime(2026, 11, 27, 14, 2, tzinfo=UTC)
T1 = datetime(2026, 11, 27, 14, 3, tzinfo=UTC)


def _points(region, *readings):
    points = defaultdict(list)
    points[(region.pk, "status")] = list(readings)
    return points


def _changes(region):
    return list(HealthChange.objects.filter(region=region).order_by("at")
                .values_list("at", "healthy", "previous"))


def test_a_minute_revised_to_unhealthy_makes_the_change_unhealthy_from_that_minute(application):
    region = application.regions.get()
    Region.objects.filter(pk=region.pk).update(state=RegionState.ACTIVE)
    record_health_changes([region], _points(region, (T0, 1.0)))
    record_health_changes([region], _points(region, (T0, 1.0), (T1, 1.0)))
    # The outage starts inside 14:03: CloudWatch's Minimum for that minute becomes 0.
    record_health_changes([region], _points(region, (T1, 0.0)))

    assert _changes(region) == [(T0, True, None), (T1, False, True)]


def test_a_flip_revised_within_its_own_minute_is_dropped(application):
    region = application.regions.get()
    record_health_changes([region], _points(region, (T0, 0.0)))
    record_health_changes([region], _points(region, (T1, 1.0)))
    assert _changes(region) == [(T0, False, None), (T1, True, False)]

    record_health_changes([region], _points(region, (T1, 0.0)))

    assert _changes(region) == [(T0, False, None)]


def test_the_first_reading_revised_keeps_one_change_with_the_new_status(application):
    region = application.regions.get()
    record_health_changes([region], _points(region, (T0, 1.0)))
    record_health_changes([region], _points(region, (T0, 0.0)))
    assert _changes(region) == [(T0, False, None)]
