"""The reference app's templates, asserted for 1, 2 and 6 regions."""

import json
import re

import pytest
from aws_cdk.assertions import Match, Template

from deployer.cdkapp import stacks as reference
from tests.cdkapp.conftest import ACCOUNT, BASE, SIX_REGIONS, Assembly, synth


def resources(template: dict, type_: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def only(template: dict, type_: str) -> tuple[str, dict]:
    found = resources(template, type_)
    assert len(found) == 1, f"expected one {type_}, found {list(found)}"
    return next(iter(found.items()))


def endpoint_check(template: dict) -> tuple[str, dict]:
    """The region's own health check (HTTPS); the routing and control checks are beside it."""
    found = {k: v for k, v in resources(template, "AWS::Route53::HealthCheck").items()
             if v["Properties"]["HealthCheckConfig"]["Type"] == "HTTPS"}
    assert len(found) == 1, f"expected one endpoint check, found {list(found)}"
    return next(iter(found.items()))


def check_of_type(template: dict, type_: str) -> tuple[str, dict]:
    found = {k: v for k, v in resources(template, "AWS::Route53::HealthCheck").items()
             if v["Properties"]["HealthCheckConfig"]["Type"] == type_}
    assert len(found) == 1, f"expected one {type_} check, found {list(found)}"
    return next(iter(found.items()))


def region_of(stack_name: str) -> str:
    return stack_name.removeprefix("orders-")


def rest_api_id(template: dict) -> str:
    return only(template, "AWS::ApiGateway::RestApi")[0]


def method(template: dict, http_method: str, path_part: str) -> dict:
    resource_ids = [k for k, v in resources(template, "AWS::ApiGateway::Resource").items()
                    if v["Properties"]["PathPart"] == path_part]
    assert len(resource_ids) == 1
    found = [v["Properties"] for v in resources(template, "AWS::ApiGateway::Method").values()
             if v["Properties"]["HttpMethod"] == http_method
             and v["Properties"]["ResourceId"] == {"Ref": resource_ids[0]}]
    assert len(found) == 1
    return found[0]


def role_statements(template: dict, role_id: str) -> list[dict]:
    """Every statement of every inline or attached policy of the role."""
    role = template["Resources"][role_id]["Properties"]
    assert not role.get("ManagedPolicyArns")
    statements = [s for p in role.get("Policies", []) for s in p["PolicyDocument"]["Statement"]]
    for policy in resources(template, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def table_arn(template: dict, region: str) -> object:
    """The ARN a role of this region must be limited to: the table of this very region."""
    if region == "us-east-1":
        return {"Fn::GetAtt": [only(template, "AWS::DynamoDB::GlobalTable")[0], "Arn"]}
    return {"Fn::Join": ["", [
        "arn:", {"Ref": "AWS::Partition"}, f":dynamodb:{region}:{ACCOUNT}:table/orders",
    ]]}


def test_it_names_one_stack_per_region_after_the_app_with_its_environment(assembly: Assembly):
    stacks = {k: v for k, v in assembly.manifest["artifacts"].items() if v["type"] == "aws:cloudformation:stack"}
    regions = [region_of(name) for name in stacks]
    assert set(regions) <= set(SIX_REGIONS) and "us-east-1" in regions
    for name, artifact in stacks.items():
        assert artifact["environment"] == f"aws://{ACCOUNT}/{region_of(name)}"
        # The manifest leaves stackName out when it equals the artifact id.
        assert artifact["properties"].get("stackName", name) == name


def test_it_synthesizes_every_region_of_the_app_in_one_run(one_region, two_regions, six_regions):
    assert [len(a.templates) for a in (one_region, two_regions, six_regions)] == [1, 2, 6]
    assert {region_of(n) for n in six_regions.templates} == set(SIX_REGIONS)


def test_it_gives_only_the_main_stack_the_global_table(assembly: Assembly):
    for name, template in assembly.templates.items():
        expected = 1 if region_of(name) == "us-east-1" else 0
        Template.from_json(template).resource_count_is("AWS::DynamoDB::GlobalTable", expected)
        assert not resources(template, "AWS::DynamoDB::Table")


@pytest.mark.parametrize(("fixture", "replicas"), [
    ("one_region", {"us-east-1"}),
    ("two_regions", {"us-east-1", "eu-west-1"}),
    ("six_regions", {"us-east-1", "eu-west-1", "ap-southeast-2"}),
])
def test_it_gives_the_global_table_exactly_the_replicas_of_the_step(request, fixture, replicas):
    template = request.getfixturevalue(fixture).template("us-east-1")
    _, table = only(template, "AWS::DynamoDB::GlobalTable")
    regions = [r["Region"] for r in table["Properties"]["Replicas"]]
    assert sorted(regions) == sorted(replicas)


def test_it_keeps_the_global_table_on_demand_retained_and_recoverable(two_regions):
    template = two_regions.template("us-east-1")
    _, table = only(template, "AWS::DynamoDB::GlobalTable")
    assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain"
    Template.from_json(template).has_resource_properties("AWS::DynamoDB::GlobalTable", {
        "TableName": "orders",
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    })
    for replica in table["Properties"]["Replicas"]:
        assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_it_checks_the_health_of_each_regions_own_api_endpoint(assembly: Assembly):
    inputs = assembly.inputs
    for name, template in assembly.templates.items():
        region = region_of(name)
        Template.from_json(template).has_resource_properties("AWS::Route53::HealthCheck", {
            "HealthCheckConfig": {
                "Type": "HTTPS",
                "Port": 443,
                "FullyQualifiedDomainName": {"Fn::Join": ["", [
                    {"Ref": rest_api_id(template)}, f".execute-api.{region}.", {"Ref": "AWS::URLSuffix"},
                ]]},
                "ResourcePath": f"/{inputs.stage}/health",
                "RequestInterval": inputs.health_check_interval,
                "FailureThreshold": inputs.failure_threshold,
            },
        })


def test_it_takes_stage_interval_and_threshold_of_the_health_check_from_context(two_regions):
    _, check = endpoint_check(two_regions.template("eu-west-1"))
    config = check["Properties"]["HealthCheckConfig"]
    assert (config["ResourcePath"], config["RequestInterval"], config["FailureThreshold"]) == ("/live/health", 10, 2)


def test_it_routes_by_latency_to_each_region_through_its_routing_check(assembly: Assembly):
    for name, template in assembly.templates.items():
        region = region_of(name)
        health_check_id, _ = check_of_type(template, "CALCULATED")
        domain_id, _ = only(template, "AWS::ApiGateway::DomainName")
        _, record = only(template, "AWS::Route53::RecordSet")
        assert record["Properties"] == {
            "Name": "api.example.com.",
            "Type": "A",
            "HostedZoneId": BASE["hosted_zone_id"],
            "Region": region,
            "SetIdentifier": region,
            "HealthCheckId": {"Ref": health_check_id},
            "AliasTarget": {
                "DNSName": {"Fn::GetAtt": [domain_id, "RegionalDomainName"]},
                "HostedZoneId": {"Fn::GetAtt": [domain_id, "RegionalHostedZoneId"]},
            },
        }


def test_it_reads_dynamodb_in_the_health_endpoint_instead_of_mocking(assembly: Assembly):
    for name, template in assembly.templates.items():
        health = method(template, "GET", "health")
        integration = health["Integration"]
        assert integration["Type"] == "AWS"
        assert integration["Uri"] == {"Fn::Join": ["", [
            "arn:", {"Ref": "AWS::Partition"}, f":apigateway:{region_of(name)}:dynamodb:action/GetItem",
        ]]}
        request = json.loads(integration["RequestTemplates"]["application/json"])
        assert request == {"TableName": "orders", "Key": {"pk": {"S": "__health__"}}}


def test_it_answers_503_from_health_whenever_dynamodb_fails(two_regions):
    health = method(two_regions.template("eu-west-1"), "GET", "health")
    responses = health["Integration"]["IntegrationResponses"]
    default = [r for r in responses if "SelectionPattern" not in r]
    assert [r["StatusCode"] for r in default] == ["200"]

    def answer(backend_status: str) -> str:
        # API Gateway matches the whole backend status against each pattern.
        matched = [r for r in responses if re.fullmatch(r.get("SelectionPattern", "(?!)"), backend_status)]
        return matched[0]["StatusCode"] if matched else default[0]["StatusCode"]

    # 400 is what DynamoDB says when the region has no replica table (ResourceNotFoundException).
    assert [answer(s) for s in ("200", "400", "403", "500", "503")] == ["200", "503", "503", "503", "503"]
    assert {r["StatusCode"] for r in health["MethodResponses"]} == {"200", "503"}


@pytest.mark.parametrize(("http_method", "path_part", "action"), [
    ("GET", "health", "dynamodb:GetItem"),
    ("POST", "data", "dynamodb:PutItem"),
    ("GET", "{pk}", "dynamodb:GetItem"),
])
def test_it_lets_each_method_call_only_its_one_action_on_the_local_table(assembly, http_method, path_part, action):
    for name, template in assembly.templates.items():
        credentials = method(template, http_method, path_part)["Integration"]["Credentials"]
        role_id = credentials["Fn::GetAtt"][0]
        assert role_statements(template, role_id) == [
            {"Action": action, "Effect": "Allow", "Resource": table_arn(template, region_of(name))},
        ]
        trust = template["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust == [{"Action": "sts:AssumeRole", "Effect": "Allow",
                          "Principal": {"Service": "apigateway.amazonaws.com"}}]


def test_it_gives_every_method_a_role_of_its_own(two_regions):
    template = two_regions.template("us-east-1")
    roles = [m["Properties"]["Integration"]["Credentials"]["Fn::GetAtt"][0]
             for m in resources(template, "AWS::ApiGateway::Method").values()]
    assert len(roles) == 3 and len(set(roles)) == 3


def test_it_writes_the_posted_name_with_the_request_id_and_region(two_regions):
    post = method(two_regions.template("eu-west-1"), "POST", "data")
    request = post["Integration"]["RequestTemplates"]["application/json"]
    assert '"pk": {"S": "$context.requestId"}' in request
    assert "\"name\": {\"S\": \"$util.escapeJavaScript($input.path('$.name'))" in request
    assert '"region": {"S": "eu-west-1"}' in request
    assert post["Integration"]["Uri"]["Fn::Join"][1][-1] == ":apigateway:eu-west-1:dynamodb:action/PutItem"
    codes = {r["StatusCode"]: r.get("SelectionPattern") for r in post["Integration"]["IntegrationResponses"]}
    assert codes == {"200": None, "400": r"4\d{2}", "500": r"5\d{2}"}
    ok = [r for r in post["Integration"]["IntegrationResponses"] if r["StatusCode"] == "200"][0]
    assert json.loads(ok["ResponseTemplates"]["application/json"]) == {"requestId": "$context.requestId"}


def test_it_rejects_a_post_body_without_a_name_before_dynamodb(two_regions):
    template = two_regions.template("us-east-1")
    post = method(template, "POST", "data")
    validator_id = post["RequestValidatorId"]["Ref"]
    assert template["Resources"][validator_id]["Properties"]["ValidateRequestBody"] is True
    model_id = post["RequestModels"]["application/json"]["Ref"]
    schema = template["Resources"][model_id]["Properties"]["Schema"]
    assert schema["required"] == ["name"] and schema["properties"]["name"]["type"] == "string"


def test_it_reads_one_item_by_its_key_from_the_path(two_regions):
    get = method(two_regions.template("us-east-1"), "GET", "{pk}")
    assert get["RequestParameters"] == {"method.request.path.pk": True}
    request = json.loads(get["Integration"]["RequestTemplates"]["application/json"])
    assert request["Key"] == {"pk": {"S": "$util.escapeJavaScript($input.params('pk'))"}}
    assert {r["StatusCode"] for r in get["MethodResponses"]} == {"200", "400", "404", "500"}


def test_it_serves_a_regional_api_on_a_regional_tls12_custom_domain(two_regions):
    for template in two_regions.templates.values():
        t = Template.from_json(template)
        t.has_resource_properties("AWS::ApiGateway::RestApi", {"EndpointConfiguration": {"Types": ["REGIONAL"]}})
        certificate_id, _ = only(template, "AWS::CertificateManager::Certificate")
        t.has_resource_properties("AWS::ApiGateway::DomainName", {
            "DomainName": "api.example.com",
            "EndpointConfiguration": {"Types": ["REGIONAL"]},
            "SecurityPolicy": "TLS_1_2",
            "RegionalCertificateArn": {"Ref": certificate_id},
        })
        t.has_resource_properties("AWS::ApiGateway::BasePathMapping", {
            "RestApiId": {"Ref": rest_api_id(template)},
            "Stage": {"Ref": only(template, "AWS::ApiGateway::Stage")[0]},
        })
        t.has_resource_properties("AWS::CertificateManager::Certificate", {
            "DomainName": "api.example.com",
            "ValidationMethod": "DNS",
            "DomainValidationOptions": [{"DomainName": "api.example.com", "HostedZoneId": BASE["hosted_zone_id"]}],
        })


def test_it_writes_access_logs_of_the_stage_to_a_log_group(two_regions):
    template = two_regions.template("eu-west-1")
    log_group_id, _ = only(template, "AWS::Logs::LogGroup")
    Template.from_json(template).has_resource_properties("AWS::ApiGateway::Stage", {
        "StageName": "live",
        "AccessLogSetting": {"DestinationArn": {"Fn::GetAtt": [log_group_id, "Arn"]}, "Format": Match.any_value()},
        "MethodSettings": Match.array_with([Match.object_like({"LoggingLevel": "ERROR"})]),
    })


def test_it_outputs_health_check_id_api_url_rest_api_id_and_table_name(assembly: Assembly):
    for template in assembly.templates.values():
        outputs = template["Outputs"]
        assert outputs["HealthCheckId"]["Value"] == {"Ref": endpoint_check(template)[0]}
        assert outputs["RestApiId"]["Value"] == {"Ref": rest_api_id(template)}
        assert outputs["TableName"]["Value"] == "orders"
        assert outputs["ApiUrl"]["Value"]["Fn::Join"][1][:2] == ["https://", {"Ref": rest_api_id(template)}]


def test_it_needs_no_bootstrap_and_has_no_assets(assembly: Assembly):
    types = {a["type"] for a in assembly.manifest["artifacts"].values()}
    assert "cdk:asset-manifest" not in types
    assert types <= {"aws:cloudformation:stack", "cdk:tree", "cdk:feature-flag-report"}
    for template in assembly.templates.values():
        assert "Parameters" not in template and "Rules" not in template
        assert not resources(template, "AWS::Lambda::Function")
        assert not [r for r in template["Resources"].values() if r["Type"].startswith("Custom::")]


def test_it_passes_cdk_nag_with_every_finding_fixed_or_acknowledged(assembly: Assembly):
    report = json.loads((assembly.outdir / "validation-report.json").read_text())
    assert [r for r in report["pluginReports"] if r["conclusion"] != "success"] == []


def test_it_fails_cdk_nag_on_exactly_the_acknowledged_findings_without_their_reasons(tmp_path, monkeypatch):
    accepted = set(reference.ACCEPTED_FINDINGS)
    monkeypatch.setattr(reference, "ACCEPTED_FINDINGS", {})
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        synth(reference.build, tmp_path, {**BASE, "regions": ["us-east-1"], "replica_regions": [], "nag": True})
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {v["ruleName"] for r in report["pluginReports"] for v in r["violations"]}
    # Everything else cdk-nag checks (access logs, request validation, ...) is fixed, not acknowledged.
    assert rules == accepted



def test_it_fits_every_template_into_a_change_set_without_an_s3_upload(six_regions):
    # CreateChangeSet takes at most 51,200 bytes of TemplateBody; more would need a bucket.
    for name in six_regions.templates:
        size = (six_regions.outdir / f"{name}.template.json").stat().st_size
        assert size < 51_200, f"{name} is {size} bytes"


def test_the_routing_check_needs_the_endpoint_and_the_drain_alarm(two_regions):
    template = two_regions.template("eu-west-1")
    endpoint_id, _ = endpoint_check(template)
    control_id, control = check_of_type(template, "CLOUDWATCH_METRIC")
    routing_id, routing = check_of_type(template, "CALCULATED")
    assert control["Properties"]["HealthCheckConfig"] == {
        "Type": "CLOUDWATCH_METRIC",
        "AlarmIdentifier": {"Name": "meridian-orders-eu-west-1-drain", "Region": "us-west-2"},
        "InsufficientDataHealthStatus": "LastKnownStatus",
    }
    assert routing["Properties"]["HealthCheckConfig"] == {
        "Type": "CALCULATED",
        "ChildHealthChecks": [{"Ref": endpoint_id}, {"Ref": control_id}],
        "HealthThreshold": 2,
    }
    outputs = template["Outputs"]
    assert outputs["RoutingCheckId"]["Value"] == {"Ref": routing_id}
    assert outputs["ControlCheckId"]["Value"] == {"Ref": control_id}


@pytest.mark.parametrize(("context", "thresholds"), [
    ({"drained_regions": "eu-west-1"}, {"us-east-1": 2, "eu-west-1": 3}),
    ({"forced_regions": ["us-east-1"], "drained_regions": "eu-west-1"}, {"us-east-1": 0, "eu-west-1": 3}),
])
def test_the_threshold_says_the_inventorys_traffic_state(tmp_path, context, thresholds):
    assembly = synth(reference.build, tmp_path, {**BASE, "regions": "us-east-1,eu-west-1",
                                                 "control_region": "eu-central-1", **context})
    for region, wanted in thresholds.items():
        template = assembly.template(region)
        config = check_of_type(template, "CALCULATED")[1]["Properties"]["HealthCheckConfig"]
        assert config["HealthThreshold"] == wanted
        alarm = check_of_type(template, "CLOUDWATCH_METRIC")[1]["Properties"]["HealthCheckConfig"]
        assert alarm["AlarmIdentifier"]["Region"] == "eu-central-1"
