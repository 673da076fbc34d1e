"""AWS errors reach the operator as one sentence: service, region, code, message, what to do."""

import boto3
import botocore.exceptions
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from lib import aws

# What moto answers when a change set's DynamoDB table already exists: DynamoDB's JSON error
# inside CloudFormation's XML protocol, which botocore cannot parse.
TABLE_EXISTS = (b'{"__type": "com.amazonaws.dynamodb.v20120810#ResourceInUseException", '
                b'"message": "Table already exists: demo-items"}')


class Body:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_):
        yield self.body


def answered(body: bytes, status: int = 400) -> Exception:
    """The exception botocore raises when CloudFormation's answer is `body`."""
    client = boto3.client("cloudformation", region_name="us-east-1",
                          aws_access_key_id="k", aws_secret_access_key="s",
                          config=Config(retries={"mode": "standard", "max_attempts": 1}))
    client.meta.events.register(
        "before-send.cloudformation.ExecuteChangeSet",
        lambda request, **_: AWSResponse(request.url, status, {}, Body(body)))
    with pytest.raises(Exception) as caught:
        client.execute_change_set(ChangeSetName="cs")
    return caught.value


def test_a_json_error_botocore_cannot_parse_becomes_a_sentence_with_its_code():
    raw = answered(TABLE_EXISTS)
    assert "Unable to parse response" in str(raw)

    error = aws.AwsError.wrap(raw, service="cloudformation", region="us-east-1")

    assert error.code == "ResourceInUseException"
    assert error.message == "Table already exists: demo-items"
    assert not error.retryable
    assert str(error) == ("CloudFormation in us-east-1: ResourceInUseException: Table already "
                          "exists: demo-items. Trying again will not help until the cause is "
                          "fixed.")


def test_a_throttling_answer_inside_an_unparsable_body_is_retryable():
    error = aws.AwsError.wrap(answered(b'{"__type": "ThrottlingException:http://internal/", '
                                       b'"Message": "Rate exceeded"}'),
                              service="cloudformation", region="eu-west-1")

    assert (error.code, error.message, error.retryable) == (
        "ThrottlingException", "Rate exceeded", True)
    assert str(error).endswith("try again in a minute.")


def test_an_answer_that_holds_no_error_says_so_without_the_dump():
    error = aws.AwsError.wrap(answered(b"<html>Hello from a proxy", status=200),
                              service="cloudformation", region="us-east-1")

    assert error.code == "UnreadableAnswer"
    assert "<html>" not in str(error) and "b'" not in str(error)
    assert str(error).startswith("CloudFormation in us-east-1: UnreadableAnswer: its answer "
                                 "could not be read.")


def test_a_client_error_reads_as_a_sentence_and_keeps_aws_words():
    raw = botocore.exceptions.ClientError(
        {"Error": {"Code": "ValidationError", "Message": "Stack with id s does not exist"}},
        "DescribeStacks")

    error = aws.AwsError.wrap(raw, service="cloudformation", region="ap-southeast-2")

    assert error.message == "Stack with id s does not exist"
    assert str(error) == ("CloudFormation in ap-southeast-2: ValidationError: Stack with id s does "
                          "not exist. Trying again will not help until the cause is fixed.")


def test_an_unreachable_endpoint_names_the_endpoint(settings):
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:1"
    raw = botocore.exceptions.EndpointConnectionError(endpoint_url="http://127.0.0.1:1/")

    error = aws.AwsError.wrap(raw, service="route53", region="us-east-1")

    assert error.retryable
    assert str(error).startswith("Route 53 in us-east-1: Unreachable: cannot reach the endpoint")
    assert str(error).endswith("Check that http://127.0.0.1:1 is running and reachable.")
