"""What each Route 53 checker sees of a region, on demand (Route 53's API, under the budget)."""

import json

from django.conf import settings
from django.utils import timezone

from lib import aws, route53_budget, shared_redis
from regions.models import Region


def checker_detail(region: Region, budget_wait: float | None = None) -> dict:
    """What each Route 53 checker sees of a region's endpoint, cached for a few seconds.

    Raises Route53Busy when the shared Route 53 budget has no slot soon, AwsError on failure."""
    conn = shared_redis.client()
    key = f"meridian:checkers:{region.health_check_id}"
    cached = conn.get(key)
    if cached is not None:
        detail = json.loads(cached)
        detail["cached"] = True
        return detail
    if budget_wait is None:
        budget_wait = settings.ROUTE53_BUDGET_WAIT
    client = route53_budget.route53_client(region.application, timeout=budget_wait)
    try:
        answer = client.get_health_check_status(HealthCheckId=region.health_check_id)
    except route53_budget.Route53Busy:
        raise
    except Exception as exc:
        raise aws.AwsError.wrap(exc, service="route53", region="us-east-1") from exc
    observations = []
    for item in answer.get("HealthCheckObservations", []):
        report = item.get("StatusReport", {})
        status = report.get("Status", "")
        checked = report.get("CheckedTime")
        observations.append({
            "region": item.get("Region", ""), "ip": item.get("IPAddress", ""),
            "status": status, "healthy": status.startswith("Success"),
            "checked_at": checked.isoformat() if checked else None,
        })
    observations.sort(key=lambda o: (o["healthy"], o["region"]))
    detail = {"observations": observations, "fetched_at": timezone.now().isoformat(),
              "failing": sum(1 for o in observations if not o["healthy"])}
    conn.set(key, json.dumps(detail), ex=settings.CHECKER_CACHE_SECONDS)
    detail["cached"] = False
    return detail
