"""The routing health check of a region (docs/region-switch.md): what its latency record uses,
so the control plane can drain, restore or force the region in seconds.

CALCULATED, with two children: the region's endpoint check and a control check that watches
the region's drain alarm in the control region. Its threshold says the traffic state the
inventory holds: 2 (both children healthy) serving, 3 (never) drained, 0 (always) forced.
"""

from aws_cdk import CfnOutput
from aws_cdk import aws_route53 as route53
from constructs import Construct

from deployer.cdkapp.inputs import Inputs

CHILDREN = 2
THRESHOLDS = {"serving": CHILDREN, "drained": CHILDREN + 1, "forced": 0}


def add_routing_check(scope: Construct, inputs: Inputs, region: str,
                      endpoint_check_id: str) -> route53.CfnHealthCheck:
    """The control and routing checks of `region`, with their outputs; returns the routing one."""
    control = route53.CfnHealthCheck(
        scope, "ControlCheck",
        health_check_config=route53.CfnHealthCheck.HealthCheckConfigProperty(
            type="CLOUDWATCH_METRIC",
            alarm_identifier=route53.CfnHealthCheck.AlarmIdentifierProperty(
                name=inputs.drain_alarm(region), region=inputs.control_region,
            ),
            # A new check, or an alarm without data, keeps the last state (healthy when none).
            insufficient_data_health_status="LastKnownStatus",
        ),
        health_check_tags=[route53.CfnHealthCheck.HealthCheckTagProperty(
            key="Name", value=f"{inputs.stack_name(region)} drain alarm")],
    )
    routing = route53.CfnHealthCheck(
        scope, "RoutingCheck",
        health_check_config=route53.CfnHealthCheck.HealthCheckConfigProperty(
            type="CALCULATED",
            child_health_checks=[endpoint_check_id, control.ref],
            health_threshold=THRESHOLDS[inputs.traffic(region)],
        ),
        health_check_tags=[route53.CfnHealthCheck.HealthCheckTagProperty(
            key="Name", value=f"{inputs.stack_name(region)} routing")],
    )
    CfnOutput(scope, "RoutingCheckId", value=routing.ref)
    CfnOutput(scope, "ControlCheckId", value=control.ref)
    return routing
