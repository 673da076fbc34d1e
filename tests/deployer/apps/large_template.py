"""A Python CDK app (aws-cdk-lib, the default synthesizer) whose templates are larger than
CloudFormation takes as a TemplateBody (51,200 bytes), with a Lambda function from a local
folder, a nested stack and a health check; every region in one run."""

import json
import os

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_ssm as ssm

HERE = os.path.dirname(os.path.abspath(__file__))
# Enough parameters with long descriptions to pass 51,200 bytes.
PARAMETERS = 120


class Settings(cdk.NestedStack):
    def __init__(self, scope, construct_id: str, region: str):
        super().__init__(scope, construct_id)
        # Named: moto 5.2 fails on an AWS::SSM::Parameter without a Name (AWS makes one up).
        ssm.StringParameter(self, "Marker", parameter_name=f"/orders/{region}/nested",
                            string_value="nested")


class Api(cdk.Stack):
    def __init__(self, scope, construct_id: str, *, region: str, **kwargs):
        super().__init__(scope, construct_id, **kwargs)
        lambda_.Function(self, "Handler", runtime=lambda_.Runtime.PYTHON_3_13,
                         handler="index.handler",
                         code=lambda_.Code.from_asset(os.path.join(HERE, "handler")))
        route53.HealthCheck(self, "HealthCheck", type=route53.HealthCheckType.HTTPS,
                            fqdn=f"{region}.api.example.com", resource_path="/prod/health")
        Settings(self, "Settings", region)
        for n in range(PARAMETERS):
            ssm.StringParameter(self, f"Setting{n}", parameter_name=f"/orders/{region}/s{n}",
                                string_value=f"value {n}", description="x" * 300)


context = json.loads(os.environ["CDK_CONTEXT_JSON"])
app = cdk.App()
for code in context["regions"].split(","):
    Api(app, f"{context['app_name']}-{code}", region=code,
        env=cdk.Environment(account=context["account"], region=code))
app.synth()
