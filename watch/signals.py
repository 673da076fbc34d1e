"""One signal per region and one per application: the worst of health and lifecycle, in a word
and a colour, so a tile never says "Active" in green above "Unhealthy" in red.

Pure functions of plain values; summary.py feeds them and the templates show their result."""

from dataclasses import dataclass

# Worst first: the order in which signals outrank each other.
LEVELS = ("bad", "warn", "unknown", "ok")


@dataclass(frozen=True)
class Signal:
    level: str  # bad, warn, unknown or ok
    word: str  # the first word of the tile
    detail: str = ""

    def worse_than(self, other: "Signal") -> bool:
        return LEVELS.index(self.level) < LEVELS.index(other.level)


def region_signal(state: str, health: str, *, stale: bool = False,
                  waiting: bool = False, traffic: str = "serving") -> Signal:
    """state: the region's lifecycle value; health: healthy, unhealthy or nodata;
    traffic: serving, drained or forced (the inventory's traffic state of the region)."""
    if state == "failed":
        return Signal("bad", "Deploy failed", "the last deploy of this region failed")
    if state == "planned":
        return Signal("unknown", "Not deployed", "deployed by the next rollout")
    if state == "removed":
        return Signal("unknown", "Removed")
    if traffic == "forced":
        return Signal("bad", "Forced serving",
                      "Route 53 counts it healthy whatever its health check says (forced by an "
                      "admin)" + ("; its health check fails now" if health == "unhealthy" else ""))
    if traffic == "drained":
        return Signal("warn", "Drained",
                      "Route 53 sends its clients elsewhere (drained by an operator)"
                      + ("; it is also unhealthy" if health == "unhealthy" else ""))
    if health == "unhealthy":
        return Signal("bad", "Unhealthy", "Route 53 sends its clients elsewhere")
    if state == "provisioning":
        return Signal("warn", "Deploying")
    if state == "removing":
        return Signal("warn", "Being removed")
    if stale:
        return Signal("warn", "Stale", "no recent reading: the last known state is shown")
    if health == "healthy":
        return Signal("ok", "Healthy")
    if waiting:
        return Signal("unknown", "Waiting", "the first reading comes with the next poll")
    return Signal("unknown", "No data")


def application_banner(regions: list[tuple[str, str, str | None]],
                       traffic: dict[str, str] | None = None,
                       served_by: dict[str, str | None] | None = None) -> Signal | None:
    """regions: (code, health, since as text or None) of every region that should serve;
    traffic: code → serving, drained or forced (absent: serving); served_by: code → the
    region Route 53 answers clients near it with, when known (the DNS answers).

    Says in words what is wrong and where clients go now; None when nothing is wrong."""
    traffic = traffic or {}
    drained = [code for code, _, _ in regions if traffic.get(code) == "drained"]
    forced = [code for code, _, _ in regions if traffic.get(code) == "forced"]
    serving = [code for code, health, _ in regions
               if health == "healthy" and code not in drained]
    down = [(code, since) for code, health, since in regions
            if health == "unhealthy" and code not in drained]
    if not down and (drained or forced):
        return _traffic_banner(drained, forced, serving, served_by or {})
    if not down:
        return None
    names = ", ".join(f"{code} (since {since})" if since else code for code, since in down)
    also = ""
    if drained or forced:
        also = " " + _traffic_banner(drained, forced, serving, served_by or {}).detail
    if not serving:
        return Signal("bad", "Every region is unhealthy" if not drained else
                      "No serving region is healthy",
                      f"{names}. Route 53 fails open when every record of a latency set is "
                      "unhealthy: it answers as if all were healthy, so clients still reach "
                      "each region." + also)
    return Signal("bad", f"{len(down)} of {len(regions)} regions unhealthy",
                  f"{names}. Route 53 answers their clients with the closest healthy region: "
                  f"{', '.join(serving)}." + also)


def _traffic_banner(drained: list[str], forced: list[str], serving: list[str],
                    served_by: dict[str, str | None]) -> Signal:
    sentences = []
    for code in drained:
        goes = served_by.get(code)
        if goes and goes != code:
            sentences.append(f"Clients near {code} are answered with {goes}.")
        else:
            sentences.append(f"Clients near {code} are answered with the closest serving "
                             f"region ({', '.join(serving) or 'none'}).")
    if forced:
        sentences.append(f"{', '.join(forced)} forced to serve: Route 53 counts "
                         f"{'it' if len(forced) == 1 else 'them'} healthy whatever the health "
                         "checks say.")
    words = []
    if drained:
        words.append(f"Drained: {', '.join(drained)}")
    if forced:
        words.append(f"Forced serving: {', '.join(forced)}")
    return Signal("bad" if forced else "warn", " · ".join(words), " ".join(sentences))
