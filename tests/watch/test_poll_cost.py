"""What a poll cycle costs in AWS calls, counted by botocore's own event hooks.

Formula: 1 GetMetricData in us-east-1 (all health checks) + 1 GetMetricData per source region
(all pairs from it, every application sharing the identity) + 1 DescribeTable per application.
No Route 53 API call at all."""

import pytest

from watch import pollers

from .conftest import create_table, deploy_regions, make_application, minute, publish_lag

pytestmark = pytest.mark.django_db

TWELVE = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2",
          "eu-west-3", "eu-central-1", "eu-north-1", "ap-southeast-1", "ap-southeast-2",
          "ap-northeast-1"]


@pytest.mark.parametrize("count", [3, 12])
def test_a_cycle_costs_one_plus_one_per_region_plus_one_per_application(
        watch_aws, application, admin_user, aws_calls, count):
    codes = TWELVE[:count]
    deploy_regions(application, codes, admin_user)
    create_table(application)
    publish_lag("orders", codes[1], codes[0], minute(-1), 640)

    report = pollers.poll_cycle()

    assert report.errors == []
    assert len(aws_calls.calls) == 1 + count + 1
    metric_calls = [c for c in aws_calls.calls if c[1] == "GetMetricData"]
    assert sorted(region for _, _, region in metric_calls) == sorted(["us-east-1", *codes])
    assert aws_calls.by_service("dynamodb") == [("dynamodb", "DescribeTable", "us-east-1")]
    assert aws_calls.by_service("route53") == []
    assert len(report.lags) == count * (count - 1)
    assert report.lags[("orders", codes[1], codes[0])][1] == 640.0


def test_applications_sharing_source_regions_share_their_calls(watch_aws, application,
                                                               admin_user, aws_calls):
    codes = TWELVE[:4]
    deploy_regions(application, codes, admin_user)
    billing = make_application("billing", admin_user)
    deploy_regions(billing, codes, admin_user)
    create_table(application)
    create_table(billing)

    pollers.poll_cycle()

    assert len(aws_calls.calls) == 1 + len(codes) + 2
    assert sorted(c[1] for c in aws_calls.calls).count("DescribeTable") == 2


def test_the_report_counts_the_same_calls_as_botocore(watch_aws, application, admin_user,
                                                      aws_calls):
    deploy_regions(application, TWELVE[:3], admin_user)
    create_table(application)

    report = pollers.poll_cycle()

    assert len(report.calls) == len(aws_calls.calls) == 5
