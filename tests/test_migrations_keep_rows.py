"""An installation migrated to the last release before the apps were split (everything in
`regions`) migrates forward with every row still there, under the new apps."""

from datetime import UTC, datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import ApiToken, AuditEntry
from deployer.models import Deployment, DeploymentEvent, Rollout
from regions.models import Application, Region
from sandbox.models import SandboxFault
from watch.models import (
    HealthChange,
    HealthSample,
    PollState,
    ReplicationRollup,
    ReplicationSample,
)

# The last migrations of the release before the layout change.
RELEASED = [
    ("regions", "0005_sandbox_fault"),
    ("deployer", "0002_rollout_only_region"),
    ("accounts", None),
    ("watch", None),
    ("sandbox", None),
]
AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    applied = [target for target in targets if target[1] is not None]
    return MigrationExecutor(connection).loader.project_state(applied).apps


def fill_release(apps) -> dict:
    """Rows of every kind, written through the released models (all in `regions`)."""
    get = apps.get_model
    user = get("auth", "User").objects.create(username="ada")
    app = get("regions", "Application").objects.create(
        slug="orders", name="Orders", domain_name="api.example.com",
        hosted_zone_id="Z0123456789ABCDEFGHIJ", table_name="orders", main_region="us-east-1",
        account_id="123456789012")
    main = get("regions", "Region").objects.create(
        application=app, code="us-east-1", role="main", state="active",
        stack_name="orders-us-east-1", health_check_id="hc-1")
    leaving = get("regions", "Region").objects.create(
        application=app, code="eu-west-1", role="replica", state="draining",
        stack_name="orders-eu-west-1")
    rollout = get("deployer", "Rollout").objects.create(application=app, kind="deploy",
                                                         status="succeeded", requested_by=user)
    deployment = get("deployer", "Deployment").objects.create(
        rollout=rollout, region=main, step=0, action="update_main",
        stack_name="orders-us-east-1", status="succeeded")
    get("deployer", "DeploymentEvent").objects.create(deployment=deployment, seq=1,
                                                      source="meridian", message="started")
    for minute in range(3):
        get("regions", "HealthSample").objects.create(
            region=main, at=AT.replace(minute=minute), status=1.0, percentage_healthy=100.0)
    get("regions", "HealthChange").objects.create(region=main, at=AT, healthy=True)
    get("regions", "ReplicationSample").objects.create(
        application=app, source="us-east-1", receiving="eu-west-1", at=AT, latency_ms=900.0)
    get("regions", "ReplicationRollup").objects.create(
        application=app, source="us-east-1", receiving="eu-west-1", bucket=AT, avg_ms=900.0,
        max_ms=1200.0, samples=60)
    get("regions", "PollState").objects.create(key="health", last_success_at=AT,
                                               detail={"latest": {}})
    get("regions", "ApiToken").objects.create(user=user, name="ci", key_hash="ab" * 32,
                                              key_prefix="mrd_abcdefgh")
    get("regions", "AuditEntry").objects.create(
        actor=user, actor_name="ada", source="web", action="region.add", object_type="region",
        object_id=str(main.pk), object_repr="orders/us-east-1", application=app,
        application_slug="orders", after={"code": "us-east-1"})
    get("regions", "SandboxFault").objects.create(region=main, kind="outage", started_by="ada")
    return {"user": user.pk, "main": main.pk, "leaving": leaving.pk, "rollout": rollout.pk}


@pytest.mark.django_db(transaction=True)
def test_a_released_database_with_data_migrates_to_the_new_apps_with_every_row():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    ids = fill_release(migrate(RELEASED))

    migrate(latest)

    assert Application.objects.get().slug == "orders"
    assert Region.objects.get(pk=ids["main"]).health_check_id == "hc-1"
    # A region on its way out is now called 'removing'.
    assert Region.objects.get(pk=ids["leaving"]).state == "removing"
    assert Rollout.objects.get(pk=ids["rollout"]).requested_by_id == ids["user"]
    assert Deployment.objects.get().stack_name == "orders-us-east-1"
    assert DeploymentEvent.objects.get().message == "started"
    assert sorted(s.at.minute for s in HealthSample.objects.all()) == [0, 1, 2]
    assert HealthChange.objects.get().healthy is True
    assert ReplicationSample.objects.get().latency_ms == 900.0
    assert ReplicationRollup.objects.get().samples == 60
    assert PollState.objects.get().key == "health"
    assert ApiToken.objects.get().key_prefix == "mrd_abcdefgh"
    entry = AuditEntry.objects.get()
    assert (entry.actor_id, entry.application.slug, entry.after) == (
        ids["user"], "orders", {"code": "us-east-1"})
    assert SandboxFault.objects.get().region_id == ids["main"]
    # The tables carry their app's name now.
    tables = set(connection.introspection.table_names())
    assert {"accounts_apitoken", "watch_healthsample", "sandbox_sandboxfault"} <= tables
    assert not {t for t in tables if t in ("regions_apitoken", "regions_healthsample")}


@pytest.mark.django_db(transaction=True)
def test_permissions_on_moved_models_follow_them_to_their_new_app():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    migrate(RELEASED)
    stale = ContentType.objects.filter(app_label="regions", model="apitoken")
    assert stale.exists()

    migrate(latest)

    assert not ContentType.objects.filter(app_label="regions", model="apitoken").exists()
    assert ContentType.objects.get(app_label="accounts", model="apitoken")
