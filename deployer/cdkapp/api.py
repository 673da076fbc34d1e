"""The regional REST API: direct DynamoDB integrations, no Lambda, each method with its own role."""

import json

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from constructs import Construct

JSON = "application/json"
HEALTH_KEY = "__health__"

# $util.escapeJavaScript also escapes ' as \' which is not valid JSON; undo just that.
NAME_FROM_BODY = """$util.escapeJavaScript($input.path('$.name')).replaceAll("\\\\'","'")"""

GET_ITEM_RESPONSE = """#set($item = $input.path('$.Item'))
#if("$!item" == "")
#set($context.responseOverride.status = 404)
{"message": "not found", "requestId": "$context.requestId"}
#else
{"pk": "$util.escapeJavaScript($item.pk.S)", "name": "$util.escapeJavaScript($item.name.S).replaceAll("\\\\'","'")", "region": "$util.escapeJavaScript($item.region.S)"}
#end"""


def error_body(message: str) -> dict[str, str]:
    return {JSON: json.dumps({"message": message, "requestId": "$context.requestId"})}


def dynamodb_role(scope: Construct, id: str, action: str, table_arn: str) -> iam.Role:
    """A role API Gateway assumes for exactly one DynamoDB action on exactly one table."""
    role = iam.Role(
        scope, id,
        assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
        description=f"API Gateway may call {action} on the application table, nothing else",
    )
    role.add_to_policy(iam.PolicyStatement(actions=[action], resources=[table_arn]))
    return role


def dynamodb_integration(
    role: iam.Role, action: str, request: str, responses: list[apigw.IntegrationResponse],
) -> apigw.AwsIntegration:
    return apigw.AwsIntegration(
        service="dynamodb",
        action=action,
        integration_http_method="POST",
        options=apigw.IntegrationOptions(
            credentials_role=role,
            passthrough_behavior=apigw.PassthroughBehavior.NEVER,
            request_templates={JSON: request},
            integration_responses=responses,
        ),
    )


def client_and_server_errors() -> list[apigw.IntegrationResponse]:
    return [
        apigw.IntegrationResponse(
            selection_pattern=r"4\d{2}", status_code="400", response_templates=error_body("bad request"),
        ),
        apigw.IntegrationResponse(
            selection_pattern=r"5\d{2}", status_code="500", response_templates=error_body("internal error"),
        ),
    ]


def method_responses(*codes: str) -> list[apigw.MethodResponse]:
    return [apigw.MethodResponse(status_code=c, response_models={JSON: apigw.Model.EMPTY_MODEL}) for c in codes]


def add_data_methods(api: apigw.RestApi, table_name: str, table_arn: str, region: str) -> None:
    """POST /data writes {pk: requestId, name, region}; GET /data/{pk} reads one item."""
    data = api.root.add_resource("data")
    body_model = api.add_model(
        "DataModel",
        content_type=JSON,
        model_name="Data",
        schema=apigw.JsonSchema(
            schema=apigw.JsonSchemaVersion.DRAFT4,
            type=apigw.JsonSchemaType.OBJECT,
            required=["name"],
            properties={"name": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, min_length=1, max_length=1024)},
        ),
    )
    validator = api.add_request_validator(
        "RequestValidator", validate_request_body=True, validate_request_parameters=True,
    )

    put_request = json.dumps({
        "TableName": table_name,
        "Item": {
            "pk": {"S": "$context.requestId"},
            "name": {"S": "@NAME@"},
            "region": {"S": region},
        },
    }).replace("@NAME@", NAME_FROM_BODY)  # VTL, not JSON: its quotes must stay unescaped
    put_role = dynamodb_role(api, "PutItemRole", "dynamodb:PutItem", table_arn)
    data.add_method(
        "POST",
        dynamodb_integration(put_role, "PutItem", put_request, [
            apigw.IntegrationResponse(
                status_code="200", response_templates={JSON: '{"requestId": "$context.requestId"}'},
            ),
            *client_and_server_errors(),
        ]),
        request_models={JSON: body_model},
        request_validator=validator,
        method_responses=method_responses("200", "400", "500"),
    )

    get_request = json.dumps({
        "TableName": table_name,
        "Key": {"pk": {"S": "$util.escapeJavaScript($input.params('pk'))"}},
    })
    get_role = dynamodb_role(api, "GetItemRole", "dynamodb:GetItem", table_arn)
    data.add_resource("{pk}").add_method(
        "GET",
        dynamodb_integration(get_role, "GetItem", get_request, [
            apigw.IntegrationResponse(status_code="200", response_templates={JSON: GET_ITEM_RESPONSE}),
            *client_and_server_errors(),
        ]),
        request_parameters={"method.request.path.pk": True},
        request_validator=validator,
        method_responses=method_responses("200", "400", "404", "500"),
    )


def add_health_method(api: apigw.RestApi, table_name: str, table_arn: str, region: str) -> None:
    """GET /health reads a sentinel item, so a region whose table is missing or failing is unhealthy."""
    request = json.dumps({"TableName": table_name, "Key": {"pk": {"S": HEALTH_KEY}}})
    role = dynamodb_role(api, "HealthRole", "dynamodb:GetItem", table_arn)
    unavailable = json.dumps({"status": "unavailable", "region": region, "requestId": "$context.requestId"})
    api.root.add_resource("health").add_method(
        "GET",
        dynamodb_integration(role, "GetItem", request, [
            apigw.IntegrationResponse(
                status_code="200", response_templates={JSON: json.dumps({"status": "ok", "region": region})},
            ),
            # Any error from DynamoDB (no table, throttled, down) must read as unhealthy to Route 53.
            apigw.IntegrationResponse(
                selection_pattern=r"[45]\d{2}", status_code="503", response_templates={JSON: unavailable},
            ),
        ]),
        method_responses=method_responses("200", "503"),
    )
