"""The shared Route 53 budget in Redis holds under concurrent callers."""

import threading
from collections import Counter

import pytest

from lib import route53_budget, shared_redis


@pytest.fixture
def budget(settings):
    conn = shared_redis.client()
    conn.delete(settings.ROUTE53_BUDGET_KEY)
    yield conn
    conn.delete(settings.ROUTE53_BUDGET_KEY)


def test_sixteen_threads_never_get_more_than_the_rate_in_any_one_second_window(budget, settings):
    settings.ROUTE53_RATE = 2
    grants: list[int] = []
    lock = threading.Lock()

    def hammer():
        for _ in range(2):
            granted_at = route53_budget.acquire(timeout=30)
            with lock:
                grants.append(granted_at)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    grants.sort()
    assert len(grants) == 16
    # Every window of one second that starts at a grant holds at most two grants.
    for i, start in enumerate(grants):
        inside = [g for g in grants[i:] if g < start + route53_budget.WINDOW_US]
        assert len(inside) <= 2, f"{len(inside)} grants within one second from {start}"
    per_second = Counter(g // 1_000_000 for g in grants)
    assert max(per_second.values()) <= 2


def test_a_caller_that_cannot_wait_long_enough_is_told_to_try_again_shortly(budget, settings):
    settings.ROUTE53_RATE = 0

    with pytest.raises(route53_budget.Route53Busy) as raised:
        route53_budget.acquire(timeout=0.5)

    assert "try again shortly" in str(raised.value)


def test_every_route53_request_waits_for_a_slot_from_the_budget(budget, settings, aws):
    settings.ROUTE53_RATE = 2
    assert route53_budget.route53_client().list_health_checks()["HealthChecks"] == []

    settings.ROUTE53_RATE = 0
    with pytest.raises(route53_budget.Route53Busy):
        route53_budget.route53_client(timeout=0.2).list_health_checks()
