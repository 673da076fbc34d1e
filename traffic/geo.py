"""Where each AWS region is, and a client location near it.

LOCATIONS: the metro area of each region (latitude, longitude), for the sandbox's model of
latency routing: without Route 53's measured latencies, the nearest region by great-circle
distance stands in for the lowest-latency one.

CLIENT_SUBNETS: a representative client location per region, as an EDNS0 client subnet (a /24
out of the EC2 address ranges AWS publishes for that region in ip-ranges.json): TestDNSAnswer
is asked what Route 53 answers a resolver that forwards this subnet. A best-effort table;
TRAFFIC_CLIENT_SUBNETS overrides or adds entries (docs/region-switch.md).
"""

import math

from django.conf import settings

LOCATIONS: dict[str, tuple[float, float]] = {
    "us-east-1": (38.9, -77.4), "us-east-2": (40.0, -83.0), "us-west-1": (37.4, -122.0),
    "us-west-2": (45.8, -119.7), "ca-central-1": (45.5, -73.6), "ca-west-1": (51.0, -114.1),
    "mx-central-1": (20.6, -100.4), "sa-east-1": (-23.5, -46.6), "eu-west-1": (53.3, -6.3),
    "eu-west-2": (51.5, -0.1), "eu-west-3": (48.9, 2.4), "eu-central-1": (50.1, 8.7),
    "eu-central-2": (47.4, 8.5), "eu-north-1": (59.3, 18.1), "eu-south-1": (45.5, 9.2),
    "eu-south-2": (41.6, -0.9), "il-central-1": (32.1, 34.8), "me-south-1": (26.1, 50.6),
    "me-central-1": (25.2, 55.3), "af-south-1": (-33.9, 18.4), "ap-south-1": (19.1, 72.9),
    "ap-south-2": (17.4, 78.5), "ap-east-1": (22.3, 114.2), "ap-east-2": (25.0, 121.5),
    "ap-northeast-1": (35.7, 139.7), "ap-northeast-2": (37.6, 127.0),
    "ap-northeast-3": (34.7, 135.5), "ap-southeast-1": (1.3, 103.8),
    "ap-southeast-2": (-33.9, 151.2), "ap-southeast-3": (-6.2, 106.8),
    "ap-southeast-4": (-37.8, 145.0), "ap-southeast-5": (3.1, 101.7),
    "ap-southeast-6": (-36.8, 174.8), "ap-southeast-7": (13.7, 100.5),
}

CLIENT_SUBNETS: dict[str, str] = {
    "us-east-1": "3.80.0.0/24", "us-east-2": "18.216.0.0/24", "us-west-1": "13.56.0.0/24",
    "us-west-2": "34.208.0.0/24", "ca-central-1": "35.182.0.0/24",
    "ca-west-1": "40.176.0.0/24", "sa-east-1": "18.228.0.0/24", "eu-west-1": "34.240.0.0/24",
    "eu-west-2": "35.176.0.0/24", "eu-west-3": "35.180.0.0/24",
    "eu-central-1": "3.120.0.0/24", "eu-central-2": "16.62.0.0/24",
    "eu-north-1": "13.48.0.0/24", "eu-south-1": "15.160.0.0/24",
    "eu-south-2": "18.100.0.0/24", "il-central-1": "51.16.0.0/24",
    "me-south-1": "15.184.0.0/24", "me-central-1": "3.28.0.0/24",
    "af-south-1": "13.244.0.0/24", "ap-south-1": "13.232.0.0/24",
    "ap-south-2": "18.60.0.0/24", "ap-east-1": "18.162.0.0/24",
    "ap-northeast-1": "13.112.0.0/24", "ap-northeast-2": "13.124.0.0/24",
    "ap-northeast-3": "13.208.0.0/24", "ap-southeast-1": "13.228.0.0/24",
    "ap-southeast-2": "13.54.0.0/24", "ap-southeast-3": "108.136.0.0/24",
    "ap-southeast-4": "16.50.0.0/24",
}


def client_subnet(code: str) -> str | None:
    return {**CLIENT_SUBNETS, **settings.TRAFFIC_CLIENT_SUBNETS}.get(code)


def distance_km(a: str, b: str) -> float:
    """Great-circle distance between two regions' metros (haversine, mean Earth radius)."""
    (lat1, lon1), (lat2, lon2) = LOCATIONS[a], LOCATIONS[b]
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def nearest(client: str, candidates: list[str]) -> str | None:
    """The candidate closest to clients near `client` (itself when it is one)."""
    if not candidates:
        return None
    if client in candidates:
        return client
    known = [c for c in candidates if c in LOCATIONS]
    if client not in LOCATIONS or not known:
        return sorted(candidates)[0]
    return min(known, key=lambda c: (distance_km(client, c), c))
