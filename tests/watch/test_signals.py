"""One signal per region and per application (watch.signals): pure rules, tested alone."""

import pytest

from watch.signals import LEVELS, application_banner, region_signal

STATES = ["planned", "provisioning", "active", "removing", "removed", "failed"]
HEALTH = ["healthy", "unhealthy", "nodata"]


@pytest.mark.parametrize(("state", "health", "word", "level"), [
    ("active", "healthy", "Healthy", "ok"),
    ("active", "unhealthy", "Unhealthy", "bad"),
    ("active", "nodata", "No data", "unknown"),
    ("provisioning", "healthy", "Deploying", "warn"),
    ("provisioning", "unhealthy", "Unhealthy", "bad"),
    ("failed", "healthy", "Deploy failed", "bad"),
    ("removing", "healthy", "Being removed", "warn"),
    ("planned", "nodata", "Not deployed", "unknown"),
])
def test_the_worst_of_lifecycle_and_health_leads(state, health, word, level):
    signal = region_signal(state, health)
    assert (signal.word, signal.level) == (word, level)


def test_an_unhealthy_region_is_never_shown_as_ok_whatever_its_state():
    for state in STATES:
        assert region_signal(state, "unhealthy").level != "ok"


def test_only_an_active_healthy_fresh_region_is_ok():
    for state in STATES:
        for health in HEALTH:
            for stale in (False, True):
                ok = region_signal(state, health, stale=stale).level == "ok"
                assert ok == (state == "active" and health == "healthy" and not stale)


def test_a_region_waiting_for_its_first_poll_is_not_stale():
    assert region_signal("active", "nodata", waiting=True).word == "Waiting"
    assert region_signal("active", "nodata", stale=True).word == "Stale"
    assert LEVELS.index("warn") < LEVELS.index("unknown")


def test_the_banner_names_the_unhealthy_regions_and_where_clients_go():
    banner = application_banner([("us-east-1", "healthy", None),
                                 ("eu-west-1", "unhealthy", "18:02 UTC"),
                                 ("ap-southeast-2", "healthy", None)])
    assert banner.word == "1 of 3 regions unhealthy"
    assert "eu-west-1 (since 18:02 UTC)" in banner.detail
    assert "closest healthy region: us-east-1, ap-southeast-2" in banner.detail


def test_when_every_region_is_unhealthy_the_banner_says_route53_fails_open():
    banner = application_banner([("us-east-1", "unhealthy", None),
                                 ("eu-west-1", "unhealthy", None)])
    assert banner.word == "Every region is unhealthy" and "fails open" in banner.detail


def test_no_banner_when_nothing_is_wrong():
    assert application_banner([("us-east-1", "healthy", None),
                               ("eu-west-1", "nodata", None)]) is None


@pytest.mark.parametrize(("health", "detail"), [
    ("healthy", "Route 53 sends its clients elsewhere (drained by an operator)"),
    ("unhealthy", "Route 53 sends its clients elsewhere (drained by an operator); it is also "
                  "unhealthy"),
])
def test_a_drained_region_says_drained_whatever_its_health(health, detail):
    signal = region_signal("active", health, traffic="drained")
    assert (signal.level, signal.word, signal.detail) == ("warn", "Drained", detail)


def test_a_forced_region_is_loud_even_when_healthy_and_a_failed_deploy_still_leads():
    assert (region_signal("active", "healthy", traffic="forced").word,
            region_signal("active", "healthy", traffic="forced").level) == ("Forced serving", "bad")
    assert "its health check fails now" in region_signal("active", "unhealthy",
                                                         traffic="forced").detail
    assert region_signal("failed", "healthy", traffic="drained").word == "Deploy failed"


def test_the_banner_says_where_a_drained_regions_clients_go():
    regions = [("us-east-1", "healthy", None), ("eu-west-1", "healthy", None)]
    banner = application_banner(regions, {"eu-west-1": "drained"}, {"eu-west-1": "us-east-1"})
    assert (banner.level, banner.word) == ("warn", "Drained: eu-west-1")
    assert banner.detail == "Clients near eu-west-1 are answered with us-east-1."
    unknown = application_banner(regions, {"eu-west-1": "drained"})
    assert unknown.detail == ("Clients near eu-west-1 are answered with the closest serving "
                              "region (us-east-1).")


def test_an_unhealthy_region_beside_a_drained_one_names_both():
    banner = application_banner([("us-east-1", "unhealthy", None), ("eu-west-1", "healthy", None),
                                 ("ap-southeast-2", "healthy", None)],
                                {"eu-west-1": "drained"}, {"eu-west-1": "ap-southeast-2"})
    assert banner.word == "1 of 3 regions unhealthy"
    assert "closest healthy region: ap-southeast-2." in banner.detail
    assert banner.detail.endswith("Clients near eu-west-1 are answered with ap-southeast-2.")


@pytest.mark.parametrize(("ms", "text"), [(850, "850 ms"), (26343, "26.3 s"), (999.6, "1.0 s"),
                                          (1000, "1.0 s"), (125_000, "2 min")])
def test_lag_reads_in_the_unit_a_person_reads(ms, text):
    from watch.summary import format_lag

    assert format_lag(ms) == text
