"""The sandbox emitter: publishes into the local AWS what AWS itself would publish.

On AWS, Route 53 publishes HealthCheckStatus and HealthCheckPercentageHealthy for every
health check (in us-east-1), and DynamoDB publishes ReplicationLatency in each source region.
Nothing publishes them in the emulator, so in sandbox mode this module does, honouring each
health check's Inverted and Disabled flags and the faults an operator injects."""

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction

from . import aws, route53_budget, services
from .models import FaultKind, Region, RegionState, SandboxFault

# The eight Route 53 checker regions: shares of healthy checkers come in eighths.
CHECKERS = 8
NORMAL_LAG_MS = 1000.0
INJECTED_LAG_MS = 45000.0
IN_SERVICE = (RegionState.ACTIVE, RegionState.PROVISIONING, RegionState.DRAINING,
              RegionState.FAILED)
BATCH = 500


ZONE = "sandbox.meridian.test"


def sandbox_zone_id() -> str:
    """The sandbox hosted zone in the local AWS, created on first use."""
    route53 = route53_budget.route53_client()
    try:
        for zone in route53.list_hosted_zones_by_name(DNSName=ZONE)["HostedZones"]:
            if zone["Name"].rstrip(".") == ZONE:
                return zone["Id"].rsplit("/", 1)[-1]
        answer = route53.create_hosted_zone(Name=ZONE, CallerReference=f"meridian-{ZONE}")
    except Exception as exc:
        raise aws.AwsError.wrap(exc, service="route53", region="us-east-1") from exc
    return answer["HostedZone"]["Id"].rsplit("/", 1)[-1]


def form_defaults() -> dict:
    """Sensible values for a new application in the sandbox, so a first try just works."""
    defaults = {"domain_name": f"app.{ZONE}", "account_id": "123456789012",
                "main_region": "us-east-1", "source": "sandbox"}
    try:
        defaults["hosted_zone_id"] = sandbox_zone_id()
    except (aws.AwsError, route53_budget.Route53Busy):
        pass
    return defaults


class SandboxOnly(Exception):
    """A sandbox action was asked for outside sandbox mode."""


@dataclass
class EmitReport:
    health: dict[str, bool] = field(default_factory=dict)  # "app/region" → healthy
    lag: dict[str, float] = field(default_factory=dict)  # "app/source→receiving" → ms
    calls: int = 0
    errors: list[str] = field(default_factory=list)


def require_sandbox() -> None:
    if not settings.SANDBOX:
        raise SandboxOnly("Simulated faults exist only in sandbox mode (SANDBOX=1).")


def health_check_flags() -> dict[str, dict]:
    """Inverted/Disabled of every health check in the local Route 53 (one paged list call)."""
    client = route53_budget.route53_client()
    flags: dict[str, dict] = {}
    marker = None
    while True:
        kwargs = {"MaxItems": "1000"}
        if marker:
            kwargs["Marker"] = marker
        try:
            page = client.list_health_checks(**kwargs)
        except Exception as exc:
            raise aws.AwsError.wrap(exc, service="route53", region="us-east-1") from exc
        for check in page.get("HealthChecks", []):
            config = check.get("HealthCheckConfig", {})
            flags[check["Id"]] = {
                "inverted": bool(config.get("Inverted")),
                "disabled": bool(config.get("Disabled")),
            }
        if not page.get("IsTruncated"):
            return flags
        marker = page.get("NextMarker")


def observed_health(outage: bool, flags: dict | None) -> bool:
    """What Route 53 would report: an outage fails the check; Inverted flips; Disabled passes."""
    flags = flags or {}
    if flags.get("disabled"):
        return True
    healthy = not outage
    return (not healthy) if flags.get("inverted") else healthy


def _percentage(healthy: bool, rng: random.Random) -> float:
    agreeing = CHECKERS - rng.choice([0, 0, 0, 1]) if healthy else rng.choice([0, 0, 1])
    return 100.0 * agreeing / CHECKERS


def _put(region: str, namespace: str, data: list[dict], report: EmitReport) -> None:
    client = aws.client("cloudwatch", region)
    for start in range(0, len(data), BATCH):
        report.calls += 1
        try:
            client.put_metric_data(Namespace=namespace, MetricData=data[start:start + BATCH])
        except Exception as exc:
            report.errors.append(str(aws.AwsError.wrap(exc, service="cloudwatch", region=region)))


def emit(now: datetime | None = None, rng: random.Random | None = None) -> EmitReport:
    """Publish one round of health and replication metrics for every deployed region."""
    require_sandbox()
    now = now or datetime.now(UTC)
    rng = rng or random.Random()
    report = EmitReport()
    regions = list(
        Region.objects.filter(state__in=IN_SERVICE)
        .select_related("application")
        .prefetch_related("sandbox_faults")
        .order_by("application_id", "code")
    )
    faults = {r.pk: {f.kind for f in r.sandbox_faults.all()} for r in regions}

    checked = [r for r in regions if r.health_check_id]
    if checked:
        try:
            flags = health_check_flags()
            report.calls += 1
        except (aws.AwsError, route53_budget.Route53Busy) as exc:
            report.errors.append(f"health check flags: {exc}")
            flags = {}
        data = []
        for region in checked:
            healthy = observed_health(FaultKind.OUTAGE in faults[region.pk],
                                      flags.get(region.health_check_id))
            report.health[f"{region.application.slug}/{region.code}"] = healthy
            dims = [{"Name": "HealthCheckId", "Value": region.health_check_id}]
            data.append({"MetricName": "HealthCheckStatus", "Dimensions": dims, "Timestamp": now,
                         "Value": 1.0 if healthy else 0.0, "Unit": "None"})
            data.append({"MetricName": "HealthCheckPercentageHealthy", "Dimensions": dims,
                         "Timestamp": now, "Value": _percentage(healthy, rng), "Unit": "Percent"})
        _put("us-east-1", "AWS/Route53", data, report)

    by_app: dict[int, list[Region]] = defaultdict(list)
    for region in regions:
        by_app[region.application_id].append(region)
    by_source: dict[str, list[dict]] = defaultdict(list)
    for members in by_app.values():
        table = members[0].application.table_name
        for source in members:
            for receiving in members:
                if receiving.pk == source.pk:
                    continue
                lagging = FaultKind.LAG in faults[source.pk] | faults[receiving.pk]
                base = INJECTED_LAG_MS if lagging else NORMAL_LAG_MS
                value = max(50.0, rng.gauss(base, base * 0.2))
                key = f"{source.application.slug}/{source.code}→{receiving.code}"
                report.lag[key] = round(value, 1)
                by_source[source.code].append({
                    "MetricName": "ReplicationLatency",
                    "Dimensions": [{"Name": "TableName", "Value": table},
                                   {"Name": "ReceivingRegion", "Value": receiving.code}],
                    "Timestamp": now, "Value": value, "Unit": "Milliseconds",
                })
    for source_code, data in sorted(by_source.items()):
        _put(source_code, "AWS/DynamoDB", data, report)
    return report


def find_region(code: str, slug: str | None = None) -> Region:
    """The region named on the command line; the application may be left out if unambiguous."""
    regions = Region.objects.filter(code=code).exclude(state=RegionState.REMOVED)
    if slug:
        regions = regions.filter(application__slug=slug)
    found = list(regions.select_related("application")[:2])
    if not found:
        where = f" in {slug}" if slug else ""
        raise LookupError(f"No region {code}{where}.")
    if len(found) > 1:
        raise LookupError(f"{code} is in several applications; name one with --application.")
    return found[0]


def inject(region: Region, kind: str, actor: services.Actor) -> bool:
    """Start simulating a fault; False when it was already running."""
    require_sandbox()
    try:
        with transaction.atomic():
            SandboxFault.objects.create(region=region, kind=kind, started_by=actor.name)
            services.record(actor, f"sandbox.{kind}", region, application=region.application,
                            after={"fault": kind})
    except IntegrityError:
        return False
    transaction.on_commit(refresh_soon)
    return True


def restore(region: Region, actor: services.Actor) -> list[str]:
    """End every simulated fault of a region; returns the kinds that were running."""
    require_sandbox()
    with transaction.atomic():
        kinds = sorted(region.sandbox_faults.values_list("kind", flat=True))
        if kinds:
            region.sandbox_faults.all().delete()
            services.record(actor, "sandbox.restore", region, application=region.application,
                            before={"faults": kinds})
    if kinds:
        transaction.on_commit(refresh_soon)
    return kinds


def refresh_soon() -> None:
    """Publish and poll right away, so the dashboard shows a change within seconds."""
    from celery import chain

    from .tasks import emit_sandbox_metrics, poll_metrics

    try:
        chain(emit_sandbox_metrics.si(), poll_metrics.si()).apply_async()
    except Exception:  # noqa: BLE001 - the periodic tasks will catch up; never fail the request
        pass
