"""Failed bearer tokens per client address, counted in the shared cache in fixed windows, so
a client guessing tokens is slowed down on every web process at once."""

import math
import time

from django.conf import settings
from django.core.cache import cache


def _window(now: float) -> tuple[int, int]:
    size = settings.API_AUTH_FAILURE_WINDOW
    start = int(now // size) * size
    return start, start + size


def _key(address: str | None, start: int) -> str:
    return f"accounts:api-auth-failures:{address or 'unknown'}:{start}"


def retry_after(address: str | None) -> int | None:
    """Seconds until `address` may present tokens again, or None when it may now."""
    now = time.time()
    start, end = _window(now)
    if (cache.get(_key(address, start)) or 0) >= settings.API_AUTH_FAILURE_LIMIT:
        return max(1, math.ceil(end - now))
    return None


def count_failure(address: str | None) -> None:
    start, end = _window(time.time())
    key = _key(address, start)
    cache.add(key, 0, timeout=end - start + 5)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=end - start + 5)
