"""HealthCheckVersion: a change is sent with the version last seen, and when Route 53 says it
moved on, the check is read again and the change tried once more — never blindly overwritten.
moto ignores versions, so Route 53's documented answers are stubbed here."""

import boto3
import pytest
from botocore.stub import Stubber

from lib import route53_budget
from regions.models import Traffic
from traffic import routing

CHECKS = routing.Checks(routing="rt-1", endpoint="ep-1", control="ct-1")


def answer(version: int, threshold: int) -> dict:
    return {"HealthCheck": {
        "Id": "rt-1", "CallerReference": "x", "HealthCheckVersion": version,
        "HealthCheckConfig": {"Type": "CALCULATED", "HealthThreshold": threshold,
                              "ChildHealthChecks": ["ep-1", "ct-1"]}}}


@pytest.fixture
def stubbed(monkeypatch):
    client = boto3.client("route53", region_name="us-east-1", aws_access_key_id="x",
                          aws_secret_access_key="x")
    stub = Stubber(client)
    monkeypatch.setattr(route53_budget, "route53_client", lambda *a, **k: client)
    with stub:
        yield stub


def update(version: int, threshold: int) -> dict:
    return {"HealthCheckId": "rt-1", "HealthCheckVersion": version,
            "HealthThreshold": threshold, "ChildHealthChecks": ["ep-1", "ct-1"]}


def test_a_known_version_is_one_request(stubbed):
    stubbed.add_response("update_health_check", answer(5, 3), update(4, 3))
    assert routing.set_threshold(None, CHECKS, Traffic.DRAINED, version=4) == 5
    stubbed.assert_no_pending_responses()


def test_a_version_that_moved_on_is_read_again_and_tried_once_more(stubbed):
    stubbed.add_client_error("update_health_check", "HealthCheckVersionMismatch",
                             "The value of HealthCheckVersion doesn't match", 409,
                             expected_params=update(4, 3))
    stubbed.add_response("get_health_check", answer(9, 2), {"HealthCheckId": "rt-1"})
    stubbed.add_response("update_health_check", answer(10, 3), update(9, 3))
    assert routing.set_threshold(None, CHECKS, Traffic.DRAINED, version=4) == 10
    stubbed.assert_no_pending_responses()


def test_without_a_version_it_reads_the_check_first(stubbed):
    stubbed.add_response("get_health_check", answer(2, 2), {"HealthCheckId": "rt-1"})
    stubbed.add_response("update_health_check", answer(3, 0), update(2, 0))
    assert routing.set_threshold(None, CHECKS, Traffic.FORCED) == 3


def test_another_error_is_a_sentence(stubbed):
    stubbed.add_client_error("update_health_check", "NoSuchHealthCheck",
                             "No health check exists with the specified ID rt-1", 404)
    with pytest.raises(routing.aws.AwsError) as raised:
        routing.set_threshold(None, CHECKS, Traffic.DRAINED, version=1)
    assert str(raised.value).startswith(
        "Route 53 in us-east-1: NoSuchHealthCheck: No health check exists with the specified "
        "ID rt-1.")
