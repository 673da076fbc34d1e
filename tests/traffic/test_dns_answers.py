"""traffic.dns.answers: simulated in the sandbox, asked of Route 53 elsewhere, cached for
TRAFFIC_DNS_TTL seconds, read again after a traffic change or when asked fresh; and the beat
task that refreshes one application per tick."""

import pytest
from django.core.cache import cache

from accounts.audit import Actor
from traffic import dns, dns_tasks, services

from .conftest import set_health

pytestmark = pytest.mark.django_db


def served(application, **kwargs) -> dict[str, str | None]:
    return {a.client: a.answer for a in dns.answers(application, **kwargs)}


def test_sandbox_answers_are_simulated_main_region_first(answering, application):
    answers = dns.answers(application)
    assert [a.client for a in answers] == ["us-east-1", "ap-southeast-2", "eu-west-1"]
    assert all(a.simulated and a.answer == a.client and a.note == "" for a in answers)
    assert dns.check(application).simulated


def test_answers_are_cached_until_fresh_is_asked(answering, application):
    assert served(application)["ap-southeast-2"] == "ap-southeast-2"
    set_health(answering["ap-southeast-2"], False)  # no traffic change: the cache holds
    assert served(application)["ap-southeast-2"] == "ap-southeast-2"
    moved = served(application, fresh=True)["ap-southeast-2"]
    assert moved in ("us-east-1", "eu-west-1")
    assert served(application)["ap-southeast-2"] == moved  # the fresh answers were kept


def test_a_traffic_change_makes_the_cached_answers_old(answering, application, operator):
    assert served(application)["eu-west-1"] == "eu-west-1"
    services.change_traffic(application, "eu-west-1", "drain", Actor(operator))
    assert served(application)["eu-west-1"] == "us-east-1"
    services.change_traffic(application, "eu-west-1", "restore", Actor(operator))
    assert served(application)["eu-west-1"] == "eu-west-1"


def test_outside_the_sandbox_a_failure_is_a_note_for_each_client(answering, application,
                                                                  settings):
    settings.SANDBOX = False
    checked = dns.check(application)
    assert not checked.simulated
    assert [a.answer for a in checked.answers] == [None, None, None]
    assert checked.errors and checked.errors[0].startswith("Route 53 in us-east-1: ")


def test_an_unreachable_zone_in_the_sandbox_is_a_note_not_an_exception(routed, application):
    application.hosted_zone_id = "ZNOSUCHZONE"
    application.save(update_fields=["hosted_zone_id"])
    answers = dns.answers(application)
    assert {a.answer for a in answers} == {None}
    assert "Route 53 in us-east-1" in answers[0].note and "NoSuchHostedZone" in answers[0].note


def test_the_beat_task_refreshes_the_oldest_application_once_per_tick(answering, application):
    assert dns_tasks.refresh_dns_answers() == "orders"  # nothing cached yet
    assert cache.get(dns._key(application)) is not None
    assert dns_tasks.refresh_dns_answers() is None  # fresh enough: nothing asked
    cache.delete(dns._key(application))
    assert dns_tasks.refresh_dns_answers() == "orders"
