"""The watch over JSON: per region health and per pair replication lag of an application."""

from collections.abc import Callable
from datetime import datetime

from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from accounts.auth import api_auth
from accounts.roles import VIEWER
from lib.api_schemas import ERRORS
from regions.models import Application

from . import summary

router = Router(tags=["watch"])
# Per-region fields other apps add to the status without watch importing them (traffic adds the
# routing check's drift in its AppConfig.ready): application → {region code: {field: value}}.
STATUS_FIELDS: list[Callable[[Application], dict[str, dict]]] = []


class RegionHealthOut(Schema):
    code: str
    role: str
    state: str
    health: str  # healthy, unhealthy or nodata
    signal: str  # the tile's first word: the worst of health and lifecycle
    signal_level: str  # ok, warn, bad or unknown
    percentage_healthy: float | None
    at: datetime | None
    since: datetime | None
    stale: bool
    stale_reason: str
    traffic: str  # serving, drained or forced: what the routing health check tells Route 53
    # "changed outside Meridian: threshold 0 seen, 2 expected"; "" when as expected or unread
    traffic_drift: str = ""
    routing_threshold: int | None = None  # the routing check's threshold as last read


class PairLagOut(Schema):
    source: str
    receiving: str
    latency_ms: float | None
    at: datetime | None
    level: str  # ok, warn, crit or nodata
    stale: bool


class StaleSourceOut(Schema):
    source: str
    reason: str


class StatusOut(Schema):
    application: str
    poll_interval: int
    lag_warn_ms: int
    lag_crit_ms: int
    regions: list[RegionHealthOut]
    pairs: list[PairLagOut]
    stale_sources: list[StaleSourceOut]


@router.get("/applications/{slug}/status", response={200: StatusOut, **ERRORS},
            auth=api_auth(VIEWER))
def application_status(request, slug: str):
    """Latest health of each region and latest replication lag of each pair (null: no data)."""
    application = get_object_or_404(Application, slug=slug)
    context = summary.dashboard_context(application, last_rollouts={})  # not part of the API
    regions = [
        {"code": t["code"], "role": t["region"].role, "state": t["region"].state,
         "health": t["health"], "signal": t["signal"].word,
         "signal_level": t["signal"].level, "percentage_healthy": t["percentage"], "at": t["at"],
         "since": t["since"], "stale": t["stale"], "stale_reason": t["stale_reason"],
         "traffic": t["region"].traffic}
        for t in context["tiles"]
    ]
    for provide in STATUS_FIELDS:
        extra = provide(application)
        for region in regions:
            region.update(extra.get(region["code"], {}))
    pairs = [
        {"source": row["source"], "receiving": cell["receiving"], "latency_ms": cell["ms"],
         "at": cell["at"], "level": cell["level"], "stale": cell["stale"]}
        for row in context["matrix_rows"] for cell in row["cells"] if cell is not None
    ]
    return {
        "application": application.slug, "poll_interval": context["poll_interval"],
        "lag_warn_ms": context["lag_warn_ms"], "lag_crit_ms": context["lag_crit_ms"],
        "regions": regions, "pairs": pairs,
        "stale_sources": [{"source": s.label, "reason": s.reason}
                          for s in context["stale_sources"]],
    }
