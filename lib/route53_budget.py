"""One Route 53 request budget for the whole installation, kept in Redis.

Route 53 allows 5 requests/s per account, shared with CloudFormation's own Route 53 calls, so
Meridian keeps to ROUTE53_RATE requests in any one-second window (a sliding-window log, updated
atomically by a Lua script on Redis' clock). Callers wait for a slot, or get Route53Busy."""

import time
import uuid

from django.conf import settings

from . import aws, shared_redis

WINDOW_US = 1_000_000

# Returns {1, granted_at_us} or {0, wait_us}; Redis' own clock keeps every process in step.
_SCRIPT = """
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, now, ARGV[3])
  redis.call('PEXPIRE', key, math.ceil(window / 1000) * 2)
  return {1, now}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
if oldest[2] == nil then
  return {0, window}
end
return {0, tonumber(oldest[2]) + window - now}
"""


class Route53Busy(Exception):
    """The shared Route 53 budget has no slot within the caller's patience."""

    def __init__(self, wait: float):
        super().__init__("Route 53's request budget is in use; try again shortly.")
        self.wait = wait


def rate() -> int:
    """Requests per second; 0 stops Meridian's own Route 53 calls altogether."""
    return settings.ROUTE53_RATE


def try_acquire(limit: int | None = None) -> tuple[bool, int]:
    """(True, granted_at_us) or (False, microseconds until a slot may free up)."""
    conn = shared_redis.client()
    limit = rate() if limit is None else limit
    granted, value = conn.eval(_SCRIPT, 1, settings.ROUTE53_BUDGET_KEY, limit, WINDOW_US, uuid.uuid4().hex)
    return bool(granted), int(value)


def acquire(timeout: float = 5.0, limit: int | None = None) -> int:
    """Wait for a slot (at most `timeout` seconds); returns the grant time in µs (Redis clock)."""
    deadline = time.monotonic() + timeout
    while True:
        granted, value = try_acquire(limit)
        if granted:
            return value
        wait = max(value, 1000) / 1_000_000
        if time.monotonic() + wait > deadline:
            raise Route53Busy(wait)
        time.sleep(wait)


def route53_client(application=None, timeout: float = 5.0, **config_overrides):
    """A Route 53 client whose every HTTP attempt (retries too) first takes a budget slot."""
    client = aws.client("route53", "us-east-1", application, **config_overrides)

    def take_slot(**kwargs):
        acquire(timeout)

    client.meta.events.register("before-send.route-53", take_slot)
    return client


def health_check_configs(application=None) -> dict[str, dict]:
    """Every health check's HealthCheckConfig by id: one paged ListHealthChecks, within the
    budget. Raises Route53Busy, or aws.AwsError in words."""
    client = route53_client(application)
    configs: dict[str, dict] = {}
    try:
        for page in client.get_paginator("list_health_checks").paginate(MaxItems="1000"):
            for check in page.get("HealthChecks", []):
                configs[check["Id"]] = check.get("HealthCheckConfig", {})
    except Route53Busy:
        raise
    except Exception as exc:
        raise aws.AwsError.wrap(exc, service="route53", region="us-east-1") from exc
    return configs
