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
                  waiting: bool = False) -> Signal:
    """state: the region's lifecycle value; health: healthy, unhealthy or nodata."""
    if state == "failed":
        return Signal("bad", "Deploy failed", "the last deploy of this region failed")
    if state == "planned":
        return Signal("unknown", "Not deployed", "deployed by the next rollout")
    if state == "removed":
        return Signal("unknown", "Removed")
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


def application_banner(regions: list[tuple[str, str, str | None]]) -> Signal | None:
    """regions: (code, health, since as text or None) of every region that should serve.

    Says in words what is wrong and where clients go now; None when nothing is wrong."""
    serving = [code for code, health, _ in regions if health == "healthy"]
    down = [(code, since) for code, health, since in regions if health == "unhealthy"]
    if not down:
        return None
    names = ", ".join(f"{code} (since {since})" if since else code for code, since in down)
    if not serving:
        return Signal("bad", "Every region is unhealthy",
                      f"{names}. Route 53 fails open when every record of a latency set is "
                      "unhealthy: it answers as if all were healthy, so clients still reach "
                      "each region.")
    return Signal("bad", f"{len(down)} of {len(regions)} regions unhealthy",
                  f"{names}. Route 53 answers their clients with the closest healthy region: "
                  f"{', '.join(serving)}.")
