"""TestDNSAnswer's answers mapped back to a region (traffic.dnsquery). The local Route 53 has no
TestDNSAnswer, so the mapping is tested on responses shaped as Route 53 documents them, the
request on a stubbed client that checks it against Route 53's own API model, and the failures
against the local Route 53 itself."""

import pytest
from botocore.stub import Stubber

from lib import aws as aws_door
from traffic import dnsquery

from .conftest import add_latency_records

pytestmark = pytest.mark.django_db

# ListResourceRecordSets as the reference app leaves them: alias records to each region's
# API Gateway custom domain, one plain A record (an own app), one CNAME-like alias by name.
RECORDS = [
    {"Name": "api.example.com.", "Type": "A", "SetIdentifier": "us-east-1",
     "Region": "us-east-1", "HealthCheckId": "c1",
     "AliasTarget": {"HostedZoneId": "Z1UJRXOUMOOFQ8",
                     "DNSName": "d-use1abcdef.execute-api.us-east-1.amazonaws.com.",
                     "EvaluateTargetHealth": False}},
    {"Name": "api.example.com.", "Type": "A", "SetIdentifier": "eu-west-1",
     "Region": "eu-west-1", "HealthCheckId": "c2",
     "AliasTarget": {"HostedZoneId": "ZLY8HYME6SFDD",
                     "DNSName": "d-euw1abcdef.execute-api.eu-west-1.amazonaws.com.",
                     "EvaluateTargetHealth": False}},
    {"Name": "api.example.com.", "Type": "A", "SetIdentifier": "ap-southeast-2",
     "Region": "ap-southeast-2", "HealthCheckId": "c3", "TTL": 60,
     "ResourceRecords": [{"Value": "198.51.100.7"}, {"Value": "198.51.100.8"}]},
]
TARGETS = {"d-use1abcdef.execute-api.us-east-1.amazonaws.com": {"3.80.1.1", "3.80.1.2"},
           "d-euw1abcdef.execute-api.eu-west-1.amazonaws.com": {"34.240.9.9"}}


def recorded(*data: str, rcode: str = "NOERROR") -> dict:
    """A TestDNSAnswer response as Route 53 documents it."""
    return {"Nameserver": "ns-1.awsdns-01.org", "RecordName": "api.example.com",
            "RecordType": "A", "RecordData": list(data), "ResponseCode": rcode,
            "Protocol": "UDP"}


def resolve(name: str) -> set[str]:
    return TARGETS.get(name, set())


def test_a_plain_records_address_maps_to_its_region():
    answer = dnsquery.answer_of("ap-southeast-2", recorded("198.51.100.8"), RECORDS, resolve)
    assert (answer.client, answer.answer, answer.note) == ("ap-southeast-2", "ap-southeast-2", "")


def test_an_alias_answered_with_its_targets_addresses_maps_to_the_alias_region():
    answer = dnsquery.answer_of("eu-west-1", recorded("3.80.1.2", "3.80.1.1"), RECORDS, resolve)
    assert answer.answer == "us-east-1"


def test_an_alias_answered_by_its_targets_name_maps_without_resolving():
    def never(name):
        raise AssertionError("resolved although the name matched")

    answer = dnsquery.answer_of(
        "eu-west-1", recorded("d-euw1abcdef.execute-api.eu-west-1.amazonaws.com."), RECORDS,
        never)
    assert answer.answer == "eu-west-1"


def test_an_address_of_no_record_is_no_answer_with_the_address_in_words():
    answer = dnsquery.answer_of("eu-west-1", recorded("203.0.113.50"), RECORDS, resolve)
    assert answer.answer is None
    assert answer.note == "Route 53 answered 203.0.113.50, which matches none of the latency records."


def test_an_error_code_or_an_empty_answer_is_said_in_words():
    failed = dnsquery.answer_of("eu-west-1", recorded(rcode="NXDOMAIN"), RECORDS, resolve)
    assert failed.answer is None
    assert failed.note == "Route 53 answered NXDOMAIN for clients near eu-west-1."
    empty = dnsquery.answer_of("eu-west-1", recorded(), RECORDS, resolve)
    assert empty.note == "Route 53 answered no address for clients near eu-west-1."


def test_each_client_is_asked_with_its_subnet_and_the_resolver(aws, application, settings):
    settings.TRAFFIC_RESOLVER_IP = "8.8.4.4"
    client = aws_door.client("route53", "us-east-1")
    stub = Stubber(client)
    stub.add_response("get_hosted_zone", {
        "HostedZone": {"Id": "/hostedzone/Z1", "Name": "example.com.", "CallerReference": "r",
                       "Config": {"PrivateZone": False}},
        "DelegationSet": {"NameServers": ["ns-1.awsdns-01.org"]}}, {"Id": "Z1"})
    for _code, ip, answered in (("us-east-1", "3.80.0.0", "3.80.1.1"),
                               ("eu-west-1", "34.240.0.0", "3.80.1.2")):
        stub.add_response("test_dns_answer", recorded(answered), {
            "HostedZoneId": "Z1", "RecordName": "api.example.com", "RecordType": "A",
            "ResolverIP": "8.8.4.4", "EDNS0ClientSubnetIP": ip, "EDNS0ClientSubnetMask": "24"})
    application.hosted_zone_id = "Z1"
    with stub:
        answers = dnsquery.query_answers(application, ["us-east-1", "eu-west-1"], RECORDS,
                                         resolve, client=client)
    stub.assert_no_pending_responses()
    assert [(a.client, a.answer) for a in answers] == [("us-east-1", "us-east-1"),
                                                       ("eu-west-1", "us-east-1")]


def test_a_region_without_a_known_subnet_says_how_to_add_one(aws, application, settings):
    settings.TRAFFIC_CLIENT_SUBNETS = {}
    answer, stop = dnsquery._ask(None, application, "xx-nowhere-1", RECORDS, resolve)
    assert answer.answer is None and stop == ""
    assert answer.note == ("No client subnet is known for clients near xx-nowhere-1: add one in "
                           "TRAFFIC_CLIENT_SUBNETS.")


def test_a_private_zone_is_no_answer_with_the_reason(routed, application):
    zone = add_latency_records(application, routed, private=True)
    answers = dnsquery.query_answers(application, ["us-east-1", "eu-west-1"], RECORDS, resolve)
    assert [a.answer for a in answers] == [None, None]
    assert answers[0].note == (f"Hosted zone {zone} is private: Route 53's TestDNSAnswer works "
                               "on public zones only, so what clients get cannot be asked.")


def test_a_failing_call_is_a_sentence_for_every_client_never_a_repr(routed, application):
    add_latency_records(application, routed)
    answers = dnsquery.query_answers(application, ["us-east-1", "eu-west-1"], RECORDS, resolve)
    assert [a.answer for a in answers] == [None, None]
    for answer in answers:
        assert answer.note.startswith("Route 53 in us-east-1: ")
        assert "ClientError" not in answer.note and "botocore" not in answer.note
        assert answer.note == answers[0].note


def test_the_client_subnet_comes_from_the_region_table(settings):
    settings.TRAFFIC_CLIENT_SUBNETS = {"eu-west-1": "198.51.100.0/22"}
    assert dnsquery._subnet("eu-west-1") == ("198.51.100.0", "22")
    assert dnsquery._subnet("us-east-1") == ("3.80.0.0", "24")
