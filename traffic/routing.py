"""The two switches of a region's routing health check, as Route 53 documents them.

Each region's latency record uses a *routing* health check: CALCULATED, with two children,
the region's endpoint check and a *control* check that watches the region's drain alarm.
A CALCULATED check is healthy when at least HealthThreshold of its children are, so:

- serving: threshold 2 (= the children): healthy while both children are;
- drained: threshold 3 (> the children): never healthy, whatever the children say;
- forced: threshold 0: always healthy.

That threshold is the fast switch, a Route 53 control-plane call (UpdateHealthCheck, served
from us-east-1). The drain alarm is the other: it lives in the application's control region
and goes to ALARM when Meridian puts 1 into its metric (PutMetricData, a data-plane call in
that region), which makes the control child, and so the routing check, unhealthy.
"""

from dataclasses import dataclass

from django.conf import settings

from lib import aws, route53_budget
from regions.models import Traffic

NAMESPACE = "Meridian/Traffic"
METRIC = "Drained"
CHILDREN = 2
# The fast path must fail fast when Route 53's API is impaired, so the data plane can act.
FAST = {"connect_timeout": 2, "read_timeout": 4, "retries": {"mode": "standard", "max_attempts": 2}}


class NoRoutingCheck(Exception):
    """The region's stack has no routing health check: its traffic cannot be switched."""


def threshold(state: str) -> int:
    return {Traffic.SERVING: CHILDREN, Traffic.DRAINED: CHILDREN + 1, Traffic.FORCED: 0}[state]


def state_of_threshold(value) -> str | None:
    """The traffic state a threshold means, or None for a value Meridian never sets."""
    return {CHILDREN: Traffic.SERVING, CHILDREN + 1: Traffic.DRAINED, 0: Traffic.FORCED}.get(
        value)


def alarm_name(slug: str, code: str) -> str:
    return f"meridian-{slug}-{code}-drain"


def control_region(application) -> str:
    return application.control_region or settings.CONTROL_REGION


@dataclass(frozen=True)
class Checks:
    routing: str
    endpoint: str
    control: str

    @property
    def children(self) -> list[str]:
        return [self.endpoint, self.control]


def checks_of(region) -> Checks:
    """The routing check and its two children, from the region's stack outputs."""
    outputs = region.outputs or {}
    routing = outputs.get("RoutingCheckId", "")
    control = outputs.get("ControlCheckId", "")
    endpoint = outputs.get("HealthCheckId", "") or region.health_check_id
    if not (routing and control and endpoint):
        missing = [name for name, value in (("RoutingCheckId", routing),
                                            ("ControlCheckId", control),
                                            ("HealthCheckId", endpoint)) if not value]
        raise NoRoutingCheck(
            f"Stack {region.stack_name} has no routing health check (outputs "
            f"{', '.join(missing)} missing), so its traffic cannot be switched. "
            + ("Deploy the region first. " if not region.outputs else
               "Add one as docs/app-contract.md (\"Routing health check\") says, then deploy. ")
        )
    return Checks(routing=routing, endpoint=endpoint, control=control)


def ensure_alarm(application, code: str) -> str:
    """Create or update the region's drain alarm in the control region; returns its name.

    Standard resolution (60 s) and Maximum, as Route 53 requires of an alarm it watches;
    missing data keeps the state, so one datapoint flips it until the next one."""
    where = control_region(application)
    name = alarm_name(application.slug, code)
    try:
        aws.client("cloudwatch", where, application).put_metric_alarm(
            AlarmName=name,
            AlarmDescription=(f"Meridian: {application.slug} in {code} is drained while this is "
                              "in ALARM (the data-plane switch of its routing health check)."),
            Namespace=NAMESPACE,
            MetricName=METRIC,
            Dimensions=_dimensions(application.slug, code),
            Statistic="Maximum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1.0,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="ignore",
            ActionsEnabled=False,
        )
    except Exception as exc:
        raise aws.AwsError.wrap(exc, service="cloudwatch", region=where) from exc
    return name


def _dimensions(slug: str, code: str) -> list[dict]:
    return [{"Name": "Application", "Value": slug}, {"Name": "Region", "Value": code}]


def set_threshold(application, checks: Checks, state: str, version: int | None = None) -> int:
    """The fast switch: UpdateHealthCheck with the check's version, so a change made in between
    fails instead of being overwritten; returns the new version.

    With the version this process last saw, it is one request; when Route 53 answers that the
    version moved on (a deploy, a change by hand), it reads the check and tries once more."""
    client = route53_budget.route53_client(application, timeout=2.0, **FAST)
    try:
        if version is None:
            version = _version(client, checks.routing)
        try:
            answer = _update(client, checks, state, version)
        except Exception as exc:
            if aws.AwsError.wrap(exc).code != "HealthCheckVersionMismatch":
                raise
            answer = _update(client, checks, state, _version(client, checks.routing))
    except route53_budget.Route53Busy:
        raise
    except Exception as exc:
        raise aws.AwsError.wrap(exc, service="route53", region="us-east-1") from exc
    return int(answer["HealthCheck"].get("HealthCheckVersion", 0))


def _version(client, routing_id: str) -> int:
    current = client.get_health_check(HealthCheckId=routing_id)["HealthCheck"]
    return int(current.get("HealthCheckVersion", 1))


def _update(client, checks: Checks, state: str, version: int) -> dict:
    return client.update_health_check(
        HealthCheckId=checks.routing,
        HealthCheckVersion=version,
        HealthThreshold=threshold(state),
        # Sent every time: an update without them would leave the check with none.
        ChildHealthChecks=checks.children,
    )


def read_thresholds(application=None) -> dict[str, int | None]:
    """HealthThreshold of every CALCULATED check (one paged ListHealthChecks)."""
    return {check_id: config.get("HealthThreshold")
            for check_id, config in route53_budget.health_check_configs(application).items()
            if config.get("Type") == "CALCULATED"}


def put_drained(application, code: str, drained: bool) -> None:
    """The data-plane switch: one datapoint into the drain alarm's metric."""
    where = control_region(application)
    client = aws.client("cloudwatch", where, application, **FAST)
    try:
        client.put_metric_data(Namespace=NAMESPACE, MetricData=[{
            "MetricName": METRIC, "Dimensions": _dimensions(application.slug, code),
            "Value": 1.0 if drained else 0.0, "Unit": "Count",
        }])
        if settings.SANDBOX:
            # The local CloudWatch stores datapoints but never evaluates alarms: do what
            # CloudWatch would do with this one within a period.
            client.set_alarm_state(AlarmName=alarm_name(application.slug, code),
                                   StateValue="ALARM" if drained else "OK",
                                   StateReason="Sandbox: evaluated as CloudWatch would.")
    except Exception as exc:
        raise aws.AwsError.wrap(exc, service="cloudwatch", region=where) from exc


def alarm_states(application, codes: list[str]) -> dict[str, str]:
    """State (OK, ALARM, INSUFFICIENT_DATA) of each region's drain alarm; absent: not found."""
    where = control_region(application)
    names = {alarm_name(application.slug, code): code for code in codes}
    states: dict[str, str] = {}
    if not names:
        return states
    client = aws.client("cloudwatch", where, application)
    try:
        for start in range(0, len(names), 100):
            chunk = list(names)[start:start + 100]
            for alarm in client.describe_alarms(AlarmNames=chunk).get("MetricAlarms", []):
                states[names[alarm["AlarmName"]]] = alarm.get("StateValue", "")
    except Exception as exc:
        raise aws.AwsError.wrap(exc, service="cloudwatch", region=where) from exc
    return states


def read_threshold(application, routing_id: str) -> int | None:
    client = route53_budget.route53_client(application)
    try:
        check = client.get_health_check(HealthCheckId=routing_id)["HealthCheck"]
    except route53_budget.Route53Busy:
        raise
    except Exception as exc:
        raise aws.AwsError.wrap(exc, service="route53", region="us-east-1") from exc
    return check.get("HealthCheckConfig", {}).get("HealthThreshold")
