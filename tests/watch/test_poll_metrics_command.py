"""manage.py poll_metrics: one cycle, and a printout of what it read."""

import io

import pytest
from django.core.management import call_command

from watch.models import HealthSample

from .conftest import create_table, deploy_regions, minute, publish_health, publish_lag

pytestmark = pytest.mark.django_db


def test_it_prints_health_lag_calls_and_errors(watch_aws, application, admin_user, unreachable):
    regions = {r.code: r for r in deploy_regions(application, ["us-east-1", "eu-west-1",
                                                                "ap-southeast-2"], admin_user)}
    create_table(application)
    publish_health(regions["us-east-1"].health_check_id, minute(-1), healthy=False, percentage=0)
    publish_lag("orders", "us-east-1", "eu-west-1", minute(-1), 1450)
    unreachable.add(region="ap-southeast-2")
    out = io.StringIO()

    call_command("poll_metrics", stdout=out)

    text = out.getvalue()
    assert "orders/us-east-1: unhealthy, 0% of checkers healthy" in text
    assert "orders/eu-west-1: no data" in text
    assert "orders us-east-1 -> eu-west-1: 1450 ms" in text
    assert "orders eu-west-1 -> us-east-1: no data" in text
    assert "orders: table ACTIVE, replicas not reported" in text
    assert "Calls made: 5" in text
    assert "Errors: 1" in text and "replication:orders:ap-southeast-2" in text
    assert HealthSample.objects.filter(region=regions["us-east-1"]).count() == 1
