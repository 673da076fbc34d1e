"""The installation's shared Redis (REDIS_URL): locks and budgets every process must see."""

from functools import cache

import redis
from django.conf import settings


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def client() -> redis.Redis:
    return _client(settings.REDIS_URL)
