"""CloudWatch GetMetricData for the metrics Route 53 and DynamoDB publish (DESIGN §4).

One call reads up to 500 metrics; longer lists are split into several calls."""

from dataclasses import dataclass
from datetime import datetime

from . import aws

MAX_QUERIES_PER_CALL = 500
PERIOD = 60

ROUTE53_NAMESPACE = "AWS/Route53"
DYNAMODB_NAMESPACE = "AWS/DynamoDB"


@dataclass(frozen=True)
class MetricQuery:
    """One metric to read; `key` is whatever the caller wants back with its points."""

    key: object
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str


def health_queries(health_check_id: str, key) -> list[MetricQuery]:
    dims = (("HealthCheckId", health_check_id),)
    return [
        # Minimum: a minute with any failed check counts as unhealthy.
        MetricQuery((key, "status"), ROUTE53_NAMESPACE, "HealthCheckStatus", dims, "Minimum"),
        MetricQuery(
            (key, "percentage"), ROUTE53_NAMESPACE, "HealthCheckPercentageHealthy", dims, "Average"
        ),
    ]


def replication_query(table_name: str, receiving_region: str, key) -> MetricQuery:
    # TableName before ReceivingRegion: moto 5.2 compares dimension lists in order.
    dims = (("TableName", table_name), ("ReceivingRegion", receiving_region))
    return MetricQuery(key, DYNAMODB_NAMESPACE, "ReplicationLatency", dims, "Average")


def _as_request(index: int, query: MetricQuery) -> dict:
    return {
        "Id": f"m{index}",
        "MetricStat": {
            "Metric": {
                "Namespace": query.namespace,
                "MetricName": query.metric,
                "Dimensions": [{"Name": n, "Value": v} for n, v in query.dimensions],
            },
            "Period": PERIOD,
            "Stat": query.stat,
        },
        "ReturnData": True,
    }


def get_metric_data(
    cloudwatch, queries: list[MetricQuery], start: datetime, end: datetime
) -> dict[object, list[tuple[datetime, float]]]:
    """Points per query key, oldest first; a metric without data maps to an empty list.

    Raises AwsError on the first failed call (the caller marks its data stale)."""
    points: dict[object, list[tuple[datetime, float]]] = {q.key: [] for q in queries}
    region = cloudwatch.meta.region_name
    for offset in range(0, len(queries), MAX_QUERIES_PER_CALL):
        batch = queries[offset:offset + MAX_QUERIES_PER_CALL]
        by_id = {f"m{i}": q for i, q in enumerate(batch)}
        pages = cloudwatch.get_paginator("get_metric_data").paginate(
            MetricDataQueries=[_as_request(i, q) for i, q in enumerate(batch)],
            StartTime=start, EndTime=end, ScanBy="TimestampAscending")
        try:
            for answer in pages:
                _collect(answer, by_id, points, region)
        except aws.AwsError:
            raise
        except Exception as exc:
            raise aws.AwsError.wrap(exc, service="cloudwatch", region=region) from exc
    for series in points.values():
        series.sort(key=lambda point: point[0])
    return points


def _collect(answer: dict, by_id: dict, points: dict, region: str) -> None:
    for result in answer.get("MetricDataResults", []):
        status = result.get("StatusCode", "Complete")
        if status in ("Forbidden", "InternalError"):
            # Not "no data": the metric could not be read, so its data goes stale.
            why = "; ".join(m.get("Value", "") for m in result.get("Messages", []))
            raise aws.AwsError(
                f"{status} for {result.get('Label') or result.get('Id')}"
                + (f": {why}" if why else ""),
                code=status, retryable=status == "InternalError",
                service="cloudwatch", region=region)
        query = by_id.get(result.get("Id"))
        if query is not None:
            points[query.key].extend(
                zip(result.get("Timestamps", []), result.get("Values", []), strict=False))
