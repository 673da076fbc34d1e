"""Sandbox stacks: the DNS side of the reference app for real, the rest as stand-ins moto can create.

Only L1 (Cfn*) resources: L2 constructs add resources moto's CloudFormation skips or rejects.
The default synthesizer and a Lambda function from a file asset, as real apps have: each region
must be bootstrapped and the asset published before its change set, as for `cdk deploy`.
"""

import zlib
from pathlib import Path

from aws_cdk import App, CfnOutput, DefaultStackSynthesizer, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from deployer.cdkapp.inputs import Inputs
from deployer.cdkapp.routing import add_routing_check
from deployer.cdkapp.stacks import region_stack_props

# Documentation addresses (RFC 5737): the sandbox record must answer something, never a real host.
SANDBOX_ADDRESS_PREFIX = "192.0.2."
HANDLER = Path(__file__).resolve().parent / "handler"
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}


def sandbox_host(inputs: Inputs, region: str) -> str:
    return f"{region}.{inputs.domain_name}"


def sandbox_address(region: str) -> str:
    # Derived from the region alone, so adding or removing other regions leaves this record unchanged.
    return SANDBOX_ADDRESS_PREFIX + str(zlib.crc32(region.encode()) % 254 + 1)


class SandboxRegionStack(Stack):
    """One region of the sandbox application."""

    def __init__(self, scope: Construct, inputs: Inputs, region: str) -> None:
        props = region_stack_props(inputs, region, "sandbox")
        # The default synthesizer: the control plane bootstraps the sandbox's regions itself.
        props["synthesizer"] = DefaultStackSynthesizer()
        super().__init__(scope, inputs.stack_name(region), **props)
        host = sandbox_host(inputs, region)
        health_check = route53.CfnHealthCheck(
            self, "HealthCheck",
            health_check_config=route53.CfnHealthCheck.HealthCheckConfigProperty(
                type="HTTPS",
                fully_qualified_domain_name=host,
                port=443,
                resource_path=f"/{inputs.stage}/health",
                request_interval=inputs.health_check_interval,
                failure_threshold=inputs.failure_threshold,
                enable_sni=True,
            ),
            health_check_tags=[
                route53.CfnHealthCheck.HealthCheckTagProperty(key="Name", value=inputs.stack_name(region)),
            ],
        )
        routing = add_routing_check(self, inputs, region, health_check.ref)
        route53.CfnRecordSet(
            self, "LatencyRecord",
            hosted_zone_id=inputs.hosted_zone_id,
            name=inputs.domain_name + ".",
            type="A",
            ttl="60",
            resource_records=[sandbox_address(region)],
            region=region,
            set_identifier=region,
            health_check_id=routing.ref,
        )
        # moto cannot create AWS::DynamoDB::GlobalTable, so every region gets a plain table of the same name.
        dynamodb.CfnTable(
            self, "Table",
            table_name=inputs.table_name,
            attribute_definitions=[dynamodb.CfnTable.AttributeDefinitionProperty(attribute_name="pk", attribute_type="S")],
            key_schema=[dynamodb.CfnTable.KeySchemaProperty(attribute_name="pk", key_type="HASH")],
            billing_mode="PAY_PER_REQUEST",
        )
        # Stand-in for the API's deployment: a new release shows as a Modify in the change set.
        ssm.CfnParameter(
            self, "Release",
            name=f"/{inputs.app_name}/{region}/release",
            type="String",
            value=inputs.release,
        )
        if region == inputs.main_region:
            # Stand-in for the global table's replica list, so each replica step shows in a change set.
            ssm.CfnParameter(
                self, "Replicas",
                name=f"/{inputs.app_name}/replicas",
                type="String",
                value=",".join(inputs.replica_regions) or "none",
            )

        # Stand-in for the API's handler: a file asset published to the bootstrap bucket.
        code = s3_assets.Asset(self, "HandlerCode", path=str(HANDLER), exclude=["__pycache__"])
        role = iam.CfnRole(self, "HandlerRole", assume_role_policy_document=LAMBDA_TRUST)
        lambda_.CfnFunction(
            self, "Handler",
            code=lambda_.CfnFunction.CodeProperty(s3_bucket=code.s3_bucket_name, s3_key=code.s3_object_key),
            handler="index.handler",
            runtime="python3.13",
            role=role.attr_arn,
            environment=lambda_.CfnFunction.EnvironmentProperty(variables={"TABLE_NAME": inputs.table_name}),
        )

        CfnOutput(self, "HealthCheckId", value=health_check.ref)
        CfnOutput(self, "TableName", value=inputs.table_name)
        CfnOutput(self, "ApiUrl", value=f"https://{host}/{inputs.stage}/")


def build(app: App, inputs: Inputs) -> list[SandboxRegionStack]:
    return [SandboxRegionStack(app, inputs, region) for region in inputs.regions]
