"""Route 53's latency rule as the sandbox models it: the nearest healthy record, failing open
when every record is unhealthy; and the routing check's arithmetic."""

from traffic import dns, geo
from traffic.dns import Record


def test_clients_get_their_own_region_while_it_is_healthy():
    records = [Record("us-east-1", True), Record("eu-west-1", True)]
    assert dns.latency_answer("eu-west-1", records) == "eu-west-1"


def test_clients_of_an_unhealthy_region_get_the_nearest_healthy_one():
    records = [Record("us-east-1", True), Record("eu-west-1", False),
               Record("eu-central-1", True), Record("ap-southeast-2", True)]
    assert dns.latency_answer("eu-west-1", records) == "eu-central-1"
    assert dns.latency_answer("ap-southeast-1", records) == "ap-southeast-2"


def test_every_record_unhealthy_fails_open():
    records = [Record("us-east-1", False), Record("eu-west-1", False)]
    assert dns.latency_answer("eu-west-1", records) == "eu-west-1"
    assert dns.latency_answer("us-west-2", records) == "us-east-1"


def test_the_routing_check_follows_its_threshold():
    assert dns.routing_healthy(2, True, True) is True
    assert dns.routing_healthy(2, False, True) is False
    assert dns.routing_healthy(2, True, False) is False  # the drain alarm fired
    assert dns.routing_healthy(3, True, True) is False  # drained
    assert dns.routing_healthy(0, False, False) is True  # forced
    assert dns.routing_healthy(None, None, None) is True  # no reading yet: healthy, as Route 53


def test_every_region_the_inventory_accepts_has_a_location():
    from regions.validators import known_regions

    assert set(known_regions()) <= set(geo.LOCATIONS)


def test_distances_are_plausible():
    assert 1000 < geo.distance_km("eu-west-1", "eu-central-1") < 1200
    assert 5000 < geo.distance_km("us-east-1", "eu-west-1") < 6000
