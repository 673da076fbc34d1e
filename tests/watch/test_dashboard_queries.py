"""The dashboard reads with the same number of SQL queries for 3 regions as for 12."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from regions.models import Region
from watch import summary
from watch.models import HealthSample, ReplicationRollup, ReplicationSample

from .test_poll_cost import TWELVE

pytestmark = pytest.mark.django_db


def populate(application, codes):
    Region.objects.bulk_create(
        Region(application=application, code=c, state="active", health_check_id=f"hc-{c}")
        for c in codes if c != application.main_region)
    Region.objects.filter(application=application).update(state="active",
                                                          health_check_id="hc")
    now = timezone.now().replace(second=0, microsecond=0)
    regions = list(application.regions.all())
    HealthSample.objects.bulk_create(
        HealthSample(region=r, at=now - timedelta(minutes=m), status=m % 2, percentage_healthy=50)
        for r in regions for m in range(3))
    pairs = [(s, d) for s in codes for d in codes if s != d]
    ReplicationSample.objects.bulk_create(
        ReplicationSample(application=application, source=s, receiving=d,
                          at=now - timedelta(minutes=m), latency_ms=100 * m)
        for s, d in pairs for m in range(2))
    ReplicationRollup.objects.bulk_create(
        ReplicationRollup(application=application, source=s, receiving=d,
                          bucket=now.replace(minute=0), avg_ms=50, max_ms=100, samples=2)
        for s, d in pairs)


def queries(fn, *args) -> int:
    # Worst case: cached sparklines start cold.
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        fn(*args)
    return len(captured)


def render_dashboard(application) -> str:
    return render_to_string("watch/_dashboard.html", summary.dashboard_context(application))


def render_region(region) -> str:
    return render_to_string("watch/_region_watch.html", summary.region_context(region))


def test_the_dashboard_tiles_and_matrix_cost_the_same_queries_at_3_and_12_regions(
        application, admin_user):
    from .conftest import make_application

    small = application
    populate(small, TWELVE[:3])
    large = make_application("billing", admin_user)
    populate(large, TWELVE)

    assert len(summary.dashboard_context(large)["matrix_rows"]) == 12
    for fn in (render_dashboard, summary.tiles_context, summary.matrix_context):
        assert queries(fn, small) == queries(fn, large), fn.__name__
    assert queries(render_dashboard, large) <= 7
    small_region = small.regions.select_related("application").get(code="us-east-2")
    large_region = large.regions.select_related("application").get(code="us-east-2")
    assert queries(render_region, small_region) == queries(render_region, large_region)
