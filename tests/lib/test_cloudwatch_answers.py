"""Odd GetMetricData answers (moto never sends them, AWS can): a narrow unit test of the parser."""

from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import ANY, Stubber

from lib import aws
from lib.cloudwatch import get_metric_data, health_queries

T = datetime(2026, 11, 27, 14, 2, tzinfo=UTC)


def Answering(results):
    """A real CloudWatch client whose one GetMetricData call gets a canned answer."""
    client = boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="x")
    stubber = Stubber(client)
    stubber.add_response("get_metric_data", {"MetricDataResults": results},
                         {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY,
                          "ScanBy": "TimestampAscending"})
    stubber.activate()
    return client


def test_a_forbidden_metric_is_an_error_not_no_data():
    client = Answering([{"Id": "m0", "StatusCode": "Forbidden",
                         "Messages": [{"Code": "Forbidden", "Value": "no access to AWS/Route53"}]}])
    with pytest.raises(aws.AwsError) as caught:
        get_metric_data(client, health_queries("hc-1", "r1"), T, T)
    assert caught.value.code == "Forbidden" and not caught.value.retryable
    assert "no access to AWS/Route53" in str(caught.value)


def test_a_result_without_timestamps_is_no_data_and_unknown_ids_are_ignored():
    client = Answering([{"Id": "m0", "StatusCode": "Complete"},
                        {"Id": "m1", "StatusCode": "Complete", "Timestamps": [T], "Values": [87.5]},
                        {"Id": "zz", "StatusCode": "Complete", "Timestamps": [T], "Values": [1.0]}])
    points = get_metric_data(client, health_queries("hc-1", "r1"), T, T)
    assert points == {("r1", "status"): [], ("r1", "percentage"): [(T, 87.5)]}
