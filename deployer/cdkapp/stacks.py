"""One stack per region: the global table (main region only), the API, its domain and its DNS."""

from aws_cdk import (
    Acknowledgment,
    App,
    BootstraplessSynthesizer,
    CfnOutput,
    Duration,
    Environment,
    RemovalPolicy,
    Stack,
    Validations,
)
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from constructs import Construct

from deployer.cdkapp.api import add_data_methods, add_health_method
from deployer.cdkapp.inputs import Inputs
from deployer.cdkapp.routing import add_routing_check

# Reasons for the cdk-nag findings this app accepts rather than fixes.
ACCEPTED_FINDINGS = {
    "AwsSolutions-APIG3": "WAF is an operator's choice per account; the API has request validation and stage throttling",
    "AwsSolutions-APIG4": "The API is public by design: Route 53 health checkers and clients call it anonymously",
    "AwsSolutions-COG4": "No Cognito: the API is public by design, see AwsSolutions-APIG4",
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]": (
        "The account-wide API Gateway logging role uses the AWS policy made for exactly this purpose"
    ),
}


def synthesizer() -> BootstraplessSynthesizer:
    # Bootstrapless: the template has no BootstrapVersion parameter or rule and any asset fails synth,
    # so the control plane can deploy it with plain CreateChangeSet in an account never bootstrapped.
    return BootstraplessSynthesizer()


def region_stack_props(inputs: Inputs, region: str, kind: str = "") -> dict:
    """Name, environment and synthesizer every regional stack of the app contract shares."""
    note = f"{kind}, " if kind else ""
    return {
        "stack_name": inputs.stack_name(region),
        "env": Environment(account=inputs.account, region=region),
        "synthesizer": synthesizer(),
        "analytics_reporting": False,
        "description": f"{inputs.app_name} in {region} ({note}main region {inputs.main_region})",
    }


class RegionStack(Stack):
    """Everything of the application in one region."""

    def __init__(self, scope: Construct, inputs: Inputs, region: str) -> None:
        super().__init__(scope, inputs.stack_name(region), **region_stack_props(inputs, region))
        table_arn = self.add_table(inputs)
        api = self.add_api(inputs, table_arn)
        health_check = self.add_dns(inputs, api)

        CfnOutput(self, "HealthCheckId", value=health_check.health_check_id)
        CfnOutput(self, "ApiUrl", value=api.url)
        CfnOutput(self, "RestApiId", value=api.rest_api_id)
        CfnOutput(self, "TableName", value=inputs.table_name)

    def add_table(self, inputs: Inputs) -> str:
        """ARN of the application table in this region; the main region owns the global table."""
        if self.region != inputs.main_region:
            # Replicas carry the global table's name in every region.
            return dynamodb.TableV2.from_table_name(self, "Table", inputs.table_name).table_arn
        table = dynamodb.TableV2(
            self, "Table",
            table_name=inputs.table_name,
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            billing=dynamodb.Billing.on_demand(),
            replicas=[dynamodb.ReplicaTableProps(region=r) for r in inputs.replica_regions],
            removal_policy=RemovalPolicy.RETAIN,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True,
            ),
        )
        return table.table_arn

    def add_api(self, inputs: Inputs, table_arn: str) -> apigw.RestApi:
        access_logs = logs.LogGroup(self, "AccessLogs", retention=logs.RetentionDays.ONE_YEAR)
        api = apigw.RestApi(
            self, "Api",
            rest_api_name=inputs.stack_name(self.region),
            description=f"{inputs.app_name} data API in {self.region}",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # Stage logging needs the account's API Gateway CloudWatch role; keep it if the stack goes.
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=inputs.stage,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False, http_method=True, ip=True, protocol=True, request_time=True,
                    resource_path=True, response_length=True, status=True, user=False,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                metrics_enabled=True,
                throttling_rate_limit=100,
                throttling_burst_limit=200,
            ),
        )
        add_data_methods(api, inputs.table_name, table_arn, self.region)
        add_health_method(api, inputs.table_name, table_arn, self.region)
        return api

    def add_dns(self, inputs: Inputs, api: apigw.RestApi) -> route53.HealthCheck:
        """Certificate, regional custom domain, health check and the latency record of this region."""
        zone = route53.HostedZone.from_hosted_zone_attributes(
            self, "Zone", hosted_zone_id=inputs.hosted_zone_id, zone_name=inputs.zone_name,
        )
        certificate = acm.Certificate(
            self, "Certificate",
            domain_name=inputs.domain_name,
            validation=acm.CertificateValidation.from_dns(zone),
        )
        domain = apigw.DomainName(
            self, "Domain",
            domain_name=inputs.domain_name,
            certificate=certificate,
            endpoint_type=apigw.EndpointType.REGIONAL,
            security_policy=apigw.SecurityPolicy.TLS_1_2,
            mapping=api,
        )
        # Checks the API's own endpoint, so the result is this region's, not whichever the domain resolves to.
        health_check = route53.HealthCheck(
            self, "HealthCheck",
            type=route53.HealthCheckType.HTTPS,
            fqdn=f"{api.rest_api_id}.execute-api.{self.region}.{self.url_suffix}",
            port=443,
            resource_path=f"/{inputs.stage}/health",
            request_interval=Duration.seconds(inputs.health_check_interval),
            failure_threshold=inputs.failure_threshold,
        )
        # The record follows the routing check, so the control plane can drain the region.
        routing = add_routing_check(self, inputs, self.region, health_check.health_check_id)
        route53.ARecord(
            self, "LatencyRecord",
            zone=zone,
            record_name=inputs.domain_name + ".",
            target=route53.RecordTarget.from_alias(targets.ApiGatewayDomain(domain)),
            region=self.region,
            set_identifier=self.region,
            health_check=route53.HealthCheck.from_health_check_id(self, "Routing", routing.ref),
        )
        return health_check


def build(app: App, inputs: Inputs) -> list[RegionStack]:
    """Add one stack per region to the app; with inputs.nag, check them with cdk-nag's AwsSolutions."""
    stacks = [RegionStack(app, inputs, region) for region in inputs.regions]
    if inputs.nag:
        from cdk_nag import AwsSolutionsChecks

        Validations.of(app).add_plugins(AwsSolutionsChecks(app))
        for stack in stacks:
            for rule, reason in ACCEPTED_FINDINGS.items():
                Validations.of(stack).acknowledge(Acknowledgment(id=rule, reason=reason))
    return stacks
