"""The guard of traffic changes: a pure rule over plain values, so it can be tested against
every sequence of drains, restores and outages (tests/traffic/test_guard_properties.py)."""

from dataclasses import dataclass

from regions.models import Traffic

STATES = (Traffic.SERVING, Traffic.DRAINED, Traffic.FORCED)


@dataclass(frozen=True)
class RegionView:
    code: str
    traffic: str
    healthy: bool | None  # None: no reading yet


def serves(region: RegionView) -> bool:
    """Serving and healthy: forced counts, as Route 53 then calls it healthy whatever happens."""
    if region.traffic == Traffic.FORCED:
        return True
    return region.traffic == Traffic.SERVING and region.healthy is True


def refusal(regions: list[RegionView], code: str, state: str, min_serving: int) -> str | None:
    """Why the change must not happen, in words; None when it may."""
    if state not in STATES:
        return f"{state!r} is not a traffic state: use serving, drained or forced."
    target = next((r for r in regions if r.code == code), None)
    if target is None:
        return f"{code} is not a serving region of this application."
    if target.traffic == state:
        return f"{code} is already {Traffic(state).label.lower()}."
    if state != Traffic.DRAINED:
        return None  # restoring or forcing never takes a region out of service
    left = [r for r in regions if r.code != code and serves(r)]
    if len(left) >= min_serving:
        return None
    others = [r for r in regions if r.code != code]
    why = "; ".join(_why_not(r) for r in others if not serves(r))
    return (f"Draining {code} would leave {len(left)} region{'s' if len(left) != 1 else ''} "
            f"serving and healthy ({', '.join(r.code for r in left) or 'none'}); this "
            f"application needs at least {min_serving} (min_serving)."
            + (f" {why}." if why else ""))


def _why_not(region: RegionView) -> str:
    if region.traffic == Traffic.DRAINED:
        return f"{region.code} is drained"
    if region.healthy is None:
        return f"{region.code} has no health reading yet"
    return f"{region.code} is unhealthy"
