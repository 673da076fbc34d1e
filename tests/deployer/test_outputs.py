"""Finding a region's health check among its stack's resources when it outputs no HealthCheckId."""

import json

import pytest

from deployer.outputs import (
    HealthCheckNotFound,
    find_health_check,
    health_check_id,
    stack_health_check,
)
from lib.aws import AwsError, client
from tests.deployer.conftest import region_template


def summary(logical_id, kind="AWS::Route53::HealthCheck", physical=None, **extra):
    return {"LogicalResourceId": logical_id, "ResourceType": kind,
            "PhysicalResourceId": physical or f"id-{logical_id}",
            "ResourceStatus": "CREATE_COMPLETE", **extra}


def latency_record(check_ref) -> dict:
    return {"Type": "AWS::Route53::RecordSet", "Properties": {
        "Name": "api.example.com", "Type": "A", "Region": "eu-west-1",
        "SetIdentifier": "eu-west-1", "HealthCheckId": check_ref}}


def test_the_only_health_check_of_the_stack_is_the_one():
    resources = [summary("Table", "AWS::DynamoDB::Table"), summary("HealthCheck")]
    assert find_health_check("orders-eu-west-1", resources) == "id-HealthCheck"


def test_a_health_check_in_a_nested_stack_is_found():
    resources = [summary("Inner", "AWS::CloudFormation::Stack"),
                 summary("Check", StackName="arn:aws:cloudformation:eu-west-1:1:stack/inner/x")]
    assert find_health_check("orders-eu-west-1", resources) == "id-Check"


def test_of_several_health_checks_the_one_the_latency_record_uses_is_the_one():
    resources = [summary("Endpoint"), summary("Spare"), summary("Record", "AWS::Route53::RecordSet")]
    by_ref = {"Resources": {"Record": latency_record({"Ref": "Endpoint"})}}
    by_attribute = {"Resources": {"Record": latency_record(
        {"Fn::GetAtt": ["Spare", "HealthCheckId"]})}}
    assert find_health_check("s", resources, by_ref) == "id-Endpoint"
    assert find_health_check("s", resources, by_attribute) == "id-Spare"


def test_a_record_set_group_names_its_health_check_too():
    resources = [summary("A"), summary("B")]
    group = {"Type": "AWS::Route53::RecordSetGroup", "Properties": {"RecordSets": [
        latency_record({"Ref": "B"})["Properties"]]}}
    assert find_health_check("s", resources, {"Resources": {"Group": group}}) == "id-B"


def test_a_stack_without_a_health_check_is_a_contract_error_naming_the_stack():
    with pytest.raises(HealthCheckNotFound) as caught:
        find_health_check("orders-eu-west-1", [summary("Table", "AWS::DynamoDB::Table")])
    assert str(caught.value).startswith(
        "Stack orders-eu-west-1 has no Route 53 health check (AWS::Route53::HealthCheck)")
    assert caught.value.retryable is False


def test_several_health_checks_and_no_record_using_one_is_a_contract_error_naming_them():
    resources = [summary("Endpoint"), summary("Deep", StackName="arn:aws:cloudformation:"
                                              "eu-west-1:1:stack/orders-Inner-1/uuid")]
    with pytest.raises(HealthCheckNotFound) as caught:
        find_health_check("orders-eu-west-1", resources, {"Resources": {}})
    assert str(caught.value) == (
        "Stack orders-eu-west-1 has 2 Route 53 health checks (Endpoint, Deep in orders-Inner-1) "
        "and none is used by its DNS records: output HealthCheckId to say which one the control "
        "plane watches.")


def test_deleted_or_failed_health_checks_do_not_count():
    resources = [summary("Old", ResourceStatus="DELETE_COMPLETE"), summary("New"),
                 summary("Broken", physical="", ResourceStatus="CREATE_FAILED")]
    assert find_health_check("s", resources) == "id-New"


# Against moto: the stack's resources listed through lib.aws


def create_stack(region: str, name: str, template: dict) -> None:
    cfn = client("cloudformation", region)
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
    cfn.get_waiter("stack_create_complete").wait(StackName=name,
                                                 WaiterConfig={"Delay": 1, "MaxAttempts": 30})


def test_the_health_check_of_a_deployed_stack_is_found_among_its_resources(aws, application):
    template = region_template("orders", "eu-west-1")
    del template["Outputs"]["HealthCheckId"]
    create_stack("eu-west-1", "orders-eu-west-1", template)

    found = stack_health_check(application, "eu-west-1", "orders-eu-west-1", template)

    checks = aws_checks()
    assert found in checks
    assert checks[found] == "eu-west-1.api.example.com"
    assert health_check_id(application, "eu-west-1", "orders-eu-west-1", {}) == found
    assert health_check_id(application, "eu-west-1", "orders-eu-west-1",
                           {"HealthCheckId": "from-output"}) == "from-output"


def test_the_health_check_of_a_nested_stack_is_found_in_it(aws, application):
    s3 = client("s3", "eu-west-1")
    s3.create_bucket(Bucket="templates-eu-west-1",
                     CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    inner = region_template("orders", "eu-west-1")
    del inner["Outputs"]
    s3.put_object(Bucket="templates-eu-west-1", Key="inner.json", Body=json.dumps(inner))
    create_stack("eu-west-1", "orders-eu-west-1", {"Resources": {"Inner": {
        "Type": "AWS::CloudFormation::Stack", "Properties": {
            "TemplateURL": "https://s3.eu-west-1.amazonaws.com/templates-eu-west-1/inner.json"}}}})

    found = stack_health_check(application, "eu-west-1", "orders-eu-west-1")
    assert found in aws_checks()


def test_a_deployed_stack_without_a_health_check_is_a_contract_error(aws, application):
    template = region_template("orders", "eu-west-1")
    del template["Resources"]["Health"], template["Outputs"]["HealthCheckId"]
    create_stack("eu-west-1", "orders-eu-west-1", template)
    with pytest.raises(HealthCheckNotFound, match="Stack orders-eu-west-1 has no Route 53"):
        stack_health_check(application, "eu-west-1", "orders-eu-west-1")


def test_a_stack_that_does_not_exist_is_an_aws_error(aws, application):
    with pytest.raises(AwsError) as caught:
        stack_health_check(application, "eu-west-1", "orders-eu-west-1")
    assert "CloudFormation in eu-west-1" in str(caught.value)


def aws_checks() -> dict[str, str]:
    route53 = client("route53", "us-east-1")
    return {check["Id"]: check["HealthCheckConfig"]["FullyQualifiedDomainName"]
            for check in route53.list_health_checks()["HealthChecks"]}
