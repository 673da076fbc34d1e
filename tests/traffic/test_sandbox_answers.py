"""The sandbox's DNS answers, worked out from moto's records, the routing checks, the drain
alarms and the health readings."""

import pytest

from accounts.audit import Actor
from traffic import dns, services

from .conftest import set_health

pytestmark = pytest.mark.django_db


def answers(application) -> dict[str, str]:
    return {a.client: a.answer for a in dns.simulated_answers(application)}


def test_each_region_answers_its_own_clients_while_serving(records, application):
    assert answers(application) == {"us-east-1": "us-east-1", "eu-west-1": "eu-west-1",
                                    "ap-southeast-2": "ap-southeast-2"}


def test_a_drain_moves_its_clients_and_a_restore_brings_them_back(records, application,
                                                                  operator):
    services.change_traffic(application, "eu-west-1", "drain", Actor(operator))
    assert answers(application)["eu-west-1"] == "us-east-1"
    services.change_traffic(application, "eu-west-1", "restore", Actor(operator))
    assert answers(application)["eu-west-1"] == "eu-west-1"


def test_an_unhealthy_endpoint_moves_its_clients_and_all_unhealthy_fails_open(
        records, application):
    set_health(records["ap-southeast-2"], False)
    assert answers(application)["ap-southeast-2"] in ("us-east-1", "eu-west-1")
    for region in records.values():
        set_health(region, False)
    assert answers(application) == {"us-east-1": "us-east-1", "eu-west-1": "eu-west-1",
                                    "ap-southeast-2": "ap-southeast-2"}
