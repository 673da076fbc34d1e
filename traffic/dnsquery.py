"""What Route 53 answers clients near each region, asked of Route 53 itself: TestDNSAnswer.

One call per client location, each with the region's EDNS0 client subnet (traffic.geo) and a
resolver (TRAFFIC_RESOLVER_IP) that forwards it, every call within the Route 53 request budget.
TestDNSAnswer answers with the record's values: the addresses of an A record, or for an alias
the addresses of its target. `region_of` maps them back to the latency record they came from.

TestDNSAnswer works on public hosted zones only; a private zone, or a call that fails, gives
an answer of None with a note in words, never an exception.
"""

import ipaddress
import socket
from collections.abc import Callable

from django.conf import settings

from lib import aws, route53_budget

from . import geo
from .dns import Answer

BUSY = ("Route 53's request budget had no free slot (other calls are using it); the next "
        "refresh asks again.")


def _name(value: str) -> str:
    return value.strip().rstrip(".").lower()


def _address_of(record: dict) -> set[str]:
    return {_name(r["Value"]) for r in record.get("ResourceRecords", [])}


def resolve_name(name: str) -> set[str]:
    """The IPv4 addresses a name resolves to from here ('' when it does not resolve)."""
    try:
        infos = socket.getaddrinfo(name, None, family=socket.AF_INET, type=socket.SOCK_STREAM)
    except OSError:
        return set()
    return {info[4][0] for info in infos}


def region_of(record_data: list[str], records: list[dict],
              resolve: Callable[[str], set[str]] = resolve_name) -> str | None:
    """The region of the latency record whose values Route 53 answered with, or None.

    records: the latency record sets as ListResourceRecordSets returns them. A plain record
    matches on its ResourceRecords values; an alias on its target's name, or on the addresses
    that name resolves to (TestDNSAnswer answers an alias with its target's addresses)."""
    answered = {_name(value) for value in record_data}
    if not answered:
        return None
    for record in records:
        if _address_of(record) & answered:
            return record["Region"]
    aliases = [r for r in records if r.get("AliasTarget", {}).get("DNSName")]
    for record in aliases:
        if _name(record["AliasTarget"]["DNSName"]) in answered:
            return record["Region"]
    if not all(_is_address(value) for value in answered):
        return None
    for record in aliases:
        if resolve(_name(record["AliasTarget"]["DNSName"])) & answered:
            return record["Region"]
    return None


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _subnet(code: str) -> tuple[str, str] | None:
    subnet = geo.client_subnet(code)
    if not subnet:
        return None
    network = ipaddress.ip_network(subnet, strict=False)
    return str(network.network_address), str(network.prefixlen)


def _private(client, zone_id: str) -> bool:
    zone = client.get_hosted_zone(Id=zone_id)["HostedZone"]
    return bool(zone.get("Config", {}).get("PrivateZone"))


def query_answers(application, codes: list[str], records: list[dict],
                  resolve: Callable[[str], set[str]] = resolve_name, client=None) -> list[Answer]:
    """TestDNSAnswer for clients near each of `codes`; answers in the same order."""
    client = client or route53_budget.route53_client(application)
    zone_id = application.hosted_zone_id
    try:
        if _private(client, zone_id):
            note = (f"Hosted zone {zone_id} is private: Route 53's TestDNSAnswer works on public "
                    "zones only, so what clients get cannot be asked.")
            return [Answer(code, None, note=note) for code in codes]
    except route53_budget.Route53Busy:
        return [Answer(code, None, note=BUSY) for code in codes]
    except Exception as exc:
        note = str(aws.AwsError.wrap(exc, service="route53", region="us-east-1"))
        return [Answer(code, None, note=note) for code in codes]
    found: list[Answer] = []
    stop = ""
    for code in codes:
        if stop:
            found.append(Answer(code, None, note=stop))
            continue
        answer, stop = _ask(client, application, code, records, resolve)
        found.append(answer)
    return found


def _ask(client, application, code: str, records: list[dict],
         resolve: Callable[[str], set[str]]) -> tuple[Answer, str]:
    """One client location's answer, and the note for the rest when asking cannot go on."""
    subnet = _subnet(code)
    if subnet is None:
        return Answer(code, None, note=f"No client subnet is known for clients near {code}: "
                                       "add one in TRAFFIC_CLIENT_SUBNETS."), ""
    params = {"HostedZoneId": application.hosted_zone_id,
              "RecordName": application.domain_name.rstrip("."), "RecordType": "A",
              "EDNS0ClientSubnetIP": subnet[0], "EDNS0ClientSubnetMask": subnet[1]}
    if settings.TRAFFIC_RESOLVER_IP:
        params["ResolverIP"] = settings.TRAFFIC_RESOLVER_IP
    try:
        answer = client.test_dns_answer(**params)
    except route53_budget.Route53Busy:
        return Answer(code, None, note=BUSY), BUSY
    except Exception as exc:
        error = aws.AwsError.wrap(exc, service="route53", region="us-east-1")
        # A retryable error may pass; anything else (credentials, zone) fails every location.
        return Answer(code, None, note=str(error)), "" if error.retryable else str(error)
    return answer_of(code, answer, records, resolve), ""


def answer_of(code: str, answer: dict, records: list[dict],
              resolve: Callable[[str], set[str]] = resolve_name) -> Answer:
    """An Answer from one TestDNSAnswer response (ResponseCode, RecordData)."""
    rcode = answer.get("ResponseCode", "")
    data = answer.get("RecordData", []) or []
    if rcode != "NOERROR":
        return Answer(code, None, note=f"Route 53 answered {rcode or 'nothing'} for clients "
                                       f"near {code}.")
    if not data:
        return Answer(code, None, note=f"Route 53 answered no address for clients near {code}.")
    region = region_of(data, records, resolve)
    if region is None:
        return Answer(code, None, note=f"Route 53 answered {', '.join(data)}, which matches "
                                       "none of the latency records.")
    return Answer(code, region)
