"""Applications with real moto health checks, and publishers of what AWS would publish."""

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from accounts.audit import Actor
from lib import aws
from regions.models import Application, Region, RegionState
from regions.services import add_region, create_application
from tests.conftest import APP_DATA

_test_started: list[datetime] = []


def minute(offset: int = 0) -> datetime:
    """The start of the minute the test began in, moved by `offset` minutes.

    Fixed per test, so a test that runs across a minute boundary still means the same minutes."""
    start = _test_started[-1] if _test_started else datetime.now(UTC)
    return start.replace(second=0, microsecond=0) + timedelta(minutes=offset)


@pytest.fixture(autouse=True)
def fixed_minutes():
    _test_started.append(datetime.now(UTC))
    yield
    _test_started.clear()


def boto(service: str, region: str = "us-east-1"):
    return boto3.client(service, region_name=region)


def create_health_check(code: str) -> str:
    answer = boto("route53").create_health_check(
        CallerReference=f"hc-{code}-{datetime.now(UTC).timestamp()}",
        HealthCheckConfig={
            "Type": "HTTPS", "FullyQualifiedDomainName": f"api.{code}.example.com", "Port": 443,
            "ResourcePath": "/prod/health", "RequestInterval": 30, "FailureThreshold": 3,
        },
    )
    return answer["HealthCheck"]["Id"]


def deploy_regions(application: Application, codes: list[str], actor) -> list[Region]:
    """The application's regions as a rollout leaves them: active, each with a health check."""
    for code in codes:
        if not application.regions.filter(code=code).exists():
            add_region(application, code, Actor(actor, "cli"))
    regions = list(application.regions.order_by("code"))
    for region in regions:
        region.state = RegionState.ACTIVE
        region.health_check_id = create_health_check(f"{application.slug}-{region.code}")
        region.save(update_fields=["state", "health_check_id"])
    return regions


def make_application(slug: str, admin_user, **extra) -> Application:
    data = {**APP_DATA, "slug": slug, "name": slug.title(), "table_name": slug, **extra}
    return create_application(data, Actor(admin_user, "cli"))


def publish_health(health_check_id: str, at: datetime, healthy: bool, percentage=None) -> None:
    dims = [{"Name": "HealthCheckId", "Value": health_check_id}]
    data = [{"MetricName": "HealthCheckStatus", "Dimensions": dims, "Timestamp": at,
             "Value": 1.0 if healthy else 0.0}]
    if percentage is not None:
        data.append({"MetricName": "HealthCheckPercentageHealthy", "Dimensions": dims,
                     "Timestamp": at, "Value": float(percentage), "Unit": "Percent"})
    boto("cloudwatch", "us-east-1").put_metric_data(Namespace="AWS/Route53", MetricData=data)


def publish_lag(table: str, source: str, receiving: str, at: datetime, ms: float) -> None:
    boto("cloudwatch", source).put_metric_data(
        Namespace="AWS/DynamoDB",
        MetricData=[{
            "MetricName": "ReplicationLatency",
            "Dimensions": [{"Name": "TableName", "Value": table},
                           {"Name": "ReceivingRegion", "Value": receiving}],
            "Timestamp": at, "Value": float(ms), "Unit": "Milliseconds",
        }],
    )


def create_table(application: Application) -> None:
    boto("dynamodb", application.main_region).create_table(
        TableName=application.table_name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def watch_aws(aws, settings):
    """moto, with one attempt per call so an unreachable endpoint fails at once."""
    settings.AWS_MAX_ATTEMPTS = 1
    settings.AWS_CONNECT_TIMEOUT = 2
    settings.POLL_INTERVAL = 30
    return aws


class CallLog:
    def __init__(self):
        self.calls: list[tuple[str, str, str]] = []

    def by_service(self, service: str) -> list[tuple[str, str, str]]:
        return [c for c in self.calls if c[0] == service]


@pytest.fixture
def aws_calls(monkeypatch):
    """Every AWS API call made through lib.aws.client, seen by botocore's own hooks."""
    log = CallLog()
    real_client = aws.client

    def counting_client(service, region, application=None, **overrides):
        client = real_client(service, region, application, **overrides)

        def seen(model, **kwargs):
            log.calls.append((service, model.name, region))

        client.meta.events.register("before-call", seen)
        return client

    monkeypatch.setattr(aws, "client", counting_client)
    return log


@pytest.fixture
def unreachable(monkeypatch):
    """unreachable.add(region=..., role_arn=...): calls there go to a closed port."""
    blocked: list[tuple[str | None, str | None]] = []
    real_client = aws.client

    def client(service, region, application=None, **overrides):
        role = getattr(application, "role_arn", "") if application is not None else ""
        for where, which_role in blocked:
            if (where is None or where == region) and (which_role is None or which_role == role):
                from django.test import override_settings

                with override_settings(AWS_ENDPOINT_URL="http://127.0.0.1:9"):
                    return real_client(service, region, application, **overrides)
        return real_client(service, region, application, **overrides)

    class Blocker:
        def add(self, region=None, role_arn=None):
            blocked.append((region, role_arn))

    monkeypatch.setattr(aws, "client", client)
    return Blocker()


@pytest.fixture(autouse=True)
def empty_cache():
    """Cached sparklines from one test must not show in the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def orders(watch_aws, application, admin_user):
    """'orders' deployed in three regions, with its table in the main region."""
    regions = deploy_regions(application, ["us-east-1", "eu-west-1", "ap-southeast-2"], admin_user)
    create_table(application)
    return application, {r.code: r for r in regions}
