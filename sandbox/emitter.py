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

from lib import aws, route53_budget
from regions.models import Region, RegionState

from .models import FaultKind

# The eight Route 53 checker regions: shares of healthy checkers come in eighths.
CHECKERS = 8
NORMAL_LAG_MS = 1000.0
INJECTED_LAG_MS = 45000.0
IN_SERVICE = (RegionState.ACTIVE, RegionState.PROVISIONING, RegionState.REMOVING,
              RegionState.FAILED)
BATCH = 500


class SandboxOnly(Exception):
    """A sandbox action was asked for outside sandbox mode."""


def require_sandbox() -> None:
    if not settings.SANDBOX:
        raise SandboxOnly("Simulated faults exist only in sandbox mode (SANDBOX=1).")


@dataclass
class EmitReport:
    health: dict[str, bool] = field(default_factory=dict)  # "app/region" → healthy
    lag: dict[str, float] = field(default_factory=dict)  # "app/source→receiving" → ms
    routing: dict[str, bool] = field(default_factory=dict)  # "app/region" → routing healthy
    calls: int = 0
    errors: list[str] = field(default_factory=list)


def health_check_flags() -> dict[str, dict]:
    """Inverted/Disabled (and a routing check's threshold) of every health check in the local
    Route 53 (one paged list call)."""
    return {check_id: {"inverted": bool(config.get("Inverted")),
                       "disabled": bool(config.get("Disabled")),
                       "threshold": config.get("HealthThreshold")}
            for check_id, config in route53_budget.health_check_configs().items()}


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
        data += _routing_data(checked, flags, report, now)
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


def _routing_data(regions: list[Region], flags: dict, report: EmitReport,
                  now: datetime) -> list[dict]:
    """HealthCheckStatus of each region's routing check, as Route 53 would compute it: from
    its threshold, the endpoint health just emitted and the drain alarm's state."""
    from traffic import dns, routing

    routed = [r for r in regions if (r.outputs or {}).get("RoutingCheckId")]
    by_app: dict[int, list[Region]] = defaultdict(list)
    for region in routed:
        by_app[region.application_id].append(region)
    data = []
    for members in by_app.values():
        application = members[0].application
        try:
            alarms = routing.alarm_states(application, [r.code for r in members])
            report.calls += 1
        except aws.AwsError as exc:
            report.errors.append(f"drain alarms of {application.slug}: {exc}")
            continue
        for region in members:
            check = region.outputs["RoutingCheckId"]
            endpoint = report.health[f"{application.slug}/{region.code}"]
            healthy = dns.routing_healthy((flags.get(check) or {}).get("threshold"), endpoint,
                                          alarms.get(region.code) != "ALARM")
            healthy = observed_health(not healthy, flags.get(check))
            report.routing[f"{application.slug}/{region.code}"] = healthy
            data.append({"MetricName": "HealthCheckStatus", "Timestamp": now,
                         "Dimensions": [{"Name": "HealthCheckId", "Value": check}],
                         "Value": 1.0 if healthy else 0.0, "Unit": "None"})
    return data


def probe_answers(regions: list[Region]) -> dict[int, tuple[bool, str]]:
    """What Meridian's probe of each health endpoint would see: an injected outage fails it."""
    outages = set(Region.objects.filter(pk__in=[r.pk for r in regions],
                                        sandbox_faults__kind=FaultKind.OUTAGE)
                  .values_list("pk", flat=True))
    return {r.pk: (False, "sandbox: outage injected") if r.pk in outages
            else (True, "sandbox: no outage") for r in regions}
