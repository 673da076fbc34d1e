import pytest
from regions.tasks import inventory_summary

from accounts.audit import Actor
from regions import services


@pytest.mark.slow
def test_a_real_worker_on_real_redis_runs_a_task_against_the_test_database(
    celery_worker_factory, admin_user
):
    from tests.conftest import APP_DATA

    application = services.create_application(dict(APP_DATA), Actor(admin_user, "cli"))
    services.add_region(application, "eu-west-1", Actor(admin_user, "cli"))
    celery_worker_factory("default")

    result = inventory_summary.delay()

    assert result.get(timeout=30) == {"orders": ["eu-west-1", "us-east-1"]}
