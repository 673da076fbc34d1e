"""What the dashboard shows, read with a fixed number of SQL queries whatever the region count.

dashboard_context(application) -> context for templates/watch/_dashboard.html
region_context(region)         -> context for templates/watch/_region_watch.html"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import escape
from django.utils.safestring import mark_safe

from lib.sparklines import sparkline
from regions.models import Application, Region, RegionState

from . import pollers, series
from .models import HealthChange, HealthSample, PollState, is_healthy
from .series import Range
from .signals import application_banner, region_signal

# A reading older than this is history, not the current state.
RECENT = timedelta(minutes=10)


def lag_thresholds() -> tuple[int, int]:
    return settings.LAG_WARN_MS, settings.LAG_CRIT_MS


def lag_level(ms: float | None) -> str:
    if ms is None:
        return "nodata"
    warn, crit = lag_thresholds()
    if ms >= crit:
        return "crit"
    if ms >= warn:
        return "warn"
    return "ok"


def _regions_with_latest_health(queryset):
    """Regions annotated with their latest sample and latest change: one query."""
    sample = HealthSample.objects.filter(region=OuterRef("pk")).order_by("-at")
    change = HealthChange.objects.filter(region=OuterRef("pk")).order_by("-at")
    return queryset.annotate(
        h_at=Subquery(sample.values("at")[:1]),
        h_status=Subquery(sample.values("status")[:1]),
        h_percentage=Subquery(sample.values("percentage_healthy")[:1]),
        change_at=Subquery(change.values("at")[:1]),
        change_healthy=Subquery(change.values("healthy")[:1]),
        change_previous=Subquery(change.values("previous")[:1]),
        # Meridian's own probe, through the one-to-one: a join, not a query.
        p_ok=F("probe__ok"), p_at=F("probe__checked_at"), p_since=F("probe__since"),
        p_ms=F("probe__latency_ms"), p_detail=F("probe__detail"),
        p_simulated=F("probe__simulated"),
    )


def _version_key(name: str, watch: "Watch", versions: list, rng: Range, ids) -> str:
    version = max(versions).timestamp() if versions else 0
    digest = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:16]
    last = series.start_of(rng, watch.now).timestamp()
    return f"watch:{name}:{watch.application.pk}:{rng.key}:{version}:{last}:{digest}"


def _health_series_cached(watch: "Watch", rng: Range) -> dict[int, list]:
    """Health series change only when a health poll succeeds: cached under that time."""
    source = watch.source(pollers.health_key(watch.application))
    versions = [source.state.last_success_at] if (
        source and source.state and source.state.last_success_at) else []
    ids = [r.pk for r in watch.regions]
    key = _version_key("health-series", watch, versions, rng, ids)
    found = cache.get(key)
    if found is None:
        found = series.health_series(ids, rng, watch.now)
        cache.set(key, found, timeout=max(watch.interval * 4, 120))
    return found


def _lag_sparks(application: Application, watch: "Watch", rng: Range) -> dict:
    """SVG sparkline per pair; they change only when a replication poll succeeds, so they are
    cached under the newest success time (a cache miss costs one query)."""
    successes = [
        s.state.last_success_at for s in watch.sources.values()
        if s.key.startswith("replication:") and s.state and s.state.last_success_at
    ]
    key = _version_key("lag-sparks", watch, successes, rng, watch.codes)
    sparks = cache.get(key)
    if sparks is None:
        sparks = {
            pair: sparkline(line, label=f"average lag {rng.describe()}",
                            css_class="spark spark-lag")
            for pair, line in series.lag_series(application.pk, rng, watch.now).items()
        }
        cache.set(key, sparks, timeout=max(watch.interval * 4, 120))
    return sparks


def _latest_lags(watch: "Watch", pairs: list[tuple[str, str]]) -> dict:
    """Latest reading of each pair, as the poller recorded it on the poll state of its source
    (already loaded: no query). A pair never read is absent: "no data", never 0."""
    result = {}
    for source in {source for source, _ in pairs}:
        found = watch.source(pollers.replication_key(watch.application, source))
        state = found.state if found else None
        for receiving, (at, value) in ((state.detail or {}).get("latest", {}) if state
                                       else {}).items():
            result[(source, receiving)] = (parse_datetime(at), value)
    return {pair: result[pair] for pair in pairs if pair in result}


@dataclass
class Source:
    key: str
    label: str
    state: PollState | None
    stale: bool = False
    reason: str = ""
    behind: bool = False
    waiting: bool = False


def _sources(application, codes: list[str], has_checks: bool, states: dict, now, interval,
             fresh: bool = False):
    """fresh: a region started serving within the last three intervals, so a source with no
    poll yet is waiting for its first one rather than stale."""
    wanted: list[tuple[str, str]] = []
    if has_checks:
        wanted.append((pollers.health_key(application), "Route 53 health"))
    if len(codes) > 1:
        wanted += [(pollers.replication_key(application, c), f"Replication from {c}")
                   for c in codes]
    if codes:
        wanted.append((pollers.replicas_key(application), "Replica state"))
    sources = {}
    for key, label in wanted:
        state = states.get(key)
        source = Source(key, label, state)
        if state is None and fresh:
            source.waiting, source.reason = True, "waiting for the first poll"
        elif state is None:
            source.stale, source.reason, source.behind = True, "never polled", True
        else:
            source.stale = state.is_stale(interval, now)
            source.reason = state.stale_reason(interval, now)
            source.behind = state.behind(interval, now)
        sources[key] = source
    return sources


@dataclass
class Watch:
    """The shared first two queries: the regions and the poll state of their sources."""

    application: Application
    now: datetime
    interval: int
    regions: list[Region]
    sources: dict[str, Source]
    codes: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, application: Application) -> "Watch":
        now = timezone.now()
        interval = pollers.poll_interval()
        regions = sorted(
            _regions_with_latest_health(application.regions.exclude(state=RegionState.REMOVED)),
            key=lambda r: (not r.is_main, r.code),  # the main region first, then by code
        )
        watched = [r for r in regions if r.state not in pollers.UNWATCHED_STATES]
        codes = [r.code for r in watched]
        keys = pollers.poll_keys(application, codes)
        states = {s.key: s for s in PollState.objects.filter(key__in=keys)}
        has_checks = any(r.health_check_id for r in watched)
        fresh = any(now - r.state_changed_at <= timedelta(seconds=3 * interval) for r in watched)
        return cls(application, now, interval, regions,
                   _sources(application, codes, has_checks, states, now, interval, fresh), codes)

    def source(self, key: str) -> Source | None:
        return self.sources.get(key)

    def banner(self) -> list[Source]:
        return [s for s in self.sources.values() if s.behind]


def _tile(region: Region, watch: Watch, line: list, replicas: dict | None,
          rng: Range = series.DEFAULT) -> dict:
    health_source = watch.source(pollers.health_key(watch.application))
    watched = region.state not in pollers.UNWATCHED_STATES
    tile = {
        "region": region, "code": region.code, "role": region.get_role_display(),
        "state": region.get_state_display(), "state_colour": region.state_colour,
        "health": "nodata", "percentage": region.h_percentage, "at": region.h_at,
        "since": None, "stale": False, "stale_reason": "", "reading_old": False,
        "spark": sparkline(line, ceiling=1.0, label=f"{region.code}: share of healthy "
                           f"minutes {rng.describe()}", css_class="spark spark-health"),
        "replica_status": None,
    }
    if region.h_status is not None:
        healthy = is_healthy(region.h_status)
        tile["health"] = "healthy" if healthy else "unhealthy"
        if region.change_at is not None and region.change_healthy == healthy:
            tile["since"] = region.change_at
            # The first reading is when watching began, not when the state began.
            tile["since_first"] = region.change_previous is None
        tile["reading_old"] = watch.now - region.h_at > RECENT
        # Route 53 calls an endpoint healthy above 18 % of checkers: a share on the other side
        # of that line than the status means the view changed within the minute.
        pct = region.h_percentage
        tile["percentage_mixed"] = pct is not None and (pct > 18) != healthy
    if watched and region.health_check_id and health_source and health_source.stale:
        tile["stale"], tile["stale_reason"] = True, health_source.reason
    if watched and not region.health_check_id:
        tile["stale_reason"] = "no health check recorded for this region yet"
    waiting = bool(watched and health_source and health_source.waiting)
    tile["signal"] = region_signal(region.state, tile["health"], stale=tile["stale"],
                                   waiting=waiting, traffic=region.traffic)
    tile["traffic"] = region.traffic
    tile["probe"] = _probe(region, watch.now)
    if replicas is not None and replicas.get("reported") and not region.is_main:
        tile["replica_status"] = replicas["replicas"].get(region.code, "not a replica")
    return tile


def _probe(region: Region, now) -> dict | None:
    """Meridian's own probe of the region's health endpoint: a second opinion to Route 53."""
    if getattr(region, "p_at", None) is None:
        return None
    return {"ok": region.p_ok, "at": region.p_at, "since": region.p_since, "ms": region.p_ms,
            "detail": region.p_detail, "simulated": region.p_simulated,
            "old": (now - region.p_at).total_seconds() > 3 * max(settings.PROBE_INTERVAL, 1)}


def tiles_context(application: Application, watch: Watch | None = None,
                  last_rollouts: dict | None = None, rng: Range = series.DEFAULT,
                  served_by: dict[str, str | None] | None = None) -> dict:
    """served_by: region code → the region Route 53 answers clients near it with, when the
    caller knows (the banner then names where a drained region's clients go)."""
    watch = watch or Watch.load(application)
    lines = _health_series_cached(watch, rng)
    replicas_source = watch.source(pollers.replicas_key(application))
    replicas = replicas_source.state.detail if replicas_source and replicas_source.state else None
    tiles = [_tile(r, watch, lines[r.pk], replicas, rng) for r in watch.regions]
    if last_rollouts:
        for tile in tiles:
            tile["last_rollout"] = last_rollouts.get(tile["region"].pk)
    serving = [(t["code"], t["health"], f"{t['since']:%H:%M} UTC" if t["since"] else None)
               for t in tiles if t["region"].state not in pollers.UNWATCHED_STATES]
    return {
        "application": application, "tiles": tiles, "stale_sources": watch.banner(),
        "waiting_sources": [s for s in watch.sources.values() if s.waiting],
        "application_signal": application_banner(
            serving, {t["code"]: t["traffic"] for t in tiles}, served_by),
        "poll_interval": watch.interval, "now": watch.now, **range_context(rng),
    }


def range_context(rng: Range) -> dict:
    return {"range": rng, "ranges": list(series.RANGES.values())}


def _no_spark(rng: Range) -> str:
    return sparkline([None] * rng.points, label=f"no lag data in the last {rng.label}",
                     css_class="spark spark-lag")


def _cell(pair_latest, line, stale: bool, rng: Range, spark=None) -> dict:
    at, ms = pair_latest if pair_latest else (None, None)
    if spark is None:
        spark = _no_spark(rng) if line is None else sparkline(
            line, label=f"average lag {rng.describe()}", css_class="spark spark-lag")
    return {"at": at, "ms": ms, "level": lag_level(ms), "stale": stale, "spark": spark}


def format_lag(ms: float) -> str:
    """Milliseconds under a second, seconds above, minutes above two minutes."""
    if ms < 999.5:
        return f"{ms:.0f} ms"
    if ms < 120_000:
        return f"{ms / 1000:.1f} s"
    return f"{ms / 60_000:.0f} min"


def lag_cell_html(cell: dict | None, pair: str = "") -> str:
    """The one rendering of a lag cell (matrix and region page); built here, not in a
    template, since a matrix has up to ~900 of them."""
    if cell is None:
        return mark_safe('<td class="muted">—</td>')
    if cell["ms"] is None:
        value = '<span class="lag">no data</span>'
    else:
        value = (f'<span class="lag" title="{cell["ms"]:.0f} ms at {cell["at"]:%H:%M} UTC">'
                 f'{format_lag(cell["ms"])}</span>')
    stale = ' <span class="stale-note">(stale)</span>' if cell["stale"] else ""
    data = f' data-pair="{escape(pair)}"' if pair else ""
    return mark_safe(f'<td class="lag-{cell["level"]}"{data}>{value}{stale}'
                     f'<div>{cell["spark"]}</div></td>')


def matrix_context(application: Application, watch: Watch | None = None,
                   rng: Range = series.DEFAULT) -> dict:
    watch = watch or Watch.load(application)
    codes = watch.codes
    pairs = [(s, r) for s in codes for r in codes if s != r]
    latest = _latest_lags(watch, pairs)
    sparks = _lag_sparks(application, watch, rng)
    no_spark = _no_spark(rng)
    rows = []
    for source in codes:
        src = watch.source(pollers.replication_key(application, source))
        stale = bool(src and src.stale)
        rows.append({
            "source": source, "stale": stale, "stale_reason": src.reason if stale else "",
            "cells": [
                None if source == receiving else
                dict(_cell(latest.get((source, receiving)), None, stale, rng,
                           sparks.get((source, receiving), no_spark)), receiving=receiving)
                for receiving in codes
            ],
        })
        rows[-1]["cells_html"] = mark_safe("".join(
            lag_cell_html(cell, f"{source}:{cell['receiving']}" if cell else "")
            for cell in rows[-1]["cells"]))
    warn, crit = lag_thresholds()
    return {"application": application, "codes": codes, "matrix_rows": rows,
            "lag_warn_ms": warn, "lag_crit_ms": crit, "poll_interval": watch.interval,
            **range_context(rng)}


def cache_is_shared() -> bool:
    """Whether a worker's cache entries reach the web processes (not per-process memory)."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    return not backend.endswith(("LocMemCache", "DummyCache"))


def warm(applications) -> None:
    """Compute the cached sparklines after a poll, so no dashboard request pays for them."""
    for application in applications:
        watch = Watch.load(application)
        _health_series_cached(watch, series.DEFAULT)
        _lag_sparks(application, watch, series.DEFAULT)


def dashboard_context(application: Application, last_rollouts: dict | None = None,
                      rng: Range = series.DEFAULT,
                      served_by: dict[str, str | None] | None = None) -> dict:
    """Everything templates/watch/_dashboard.html needs (4 SQL queries, any region count).

    `last_rollouts`, when given, maps region id to the last rollout result shown on its tile."""
    watch = Watch.load(application)
    return {**tiles_context(application, watch, last_rollouts, rng, served_by),
            **matrix_context(application, watch, rng)}


def region_context(region: Region, changes: int = 20, rng: Range = series.DEFAULT) -> dict:
    """Everything templates/watch/_region_watch.html needs (a fixed number of SQL queries)."""
    application = region.application
    watch = Watch.load(application)
    annotated = next((r for r in watch.regions if r.pk == region.pk), None)
    history = list(HealthChange.objects.filter(region=region).order_by("-at")[:changes])
    line = series.health_series([region.pk], rng, watch.now)[region.pk]
    others = [c for c in watch.codes if c != region.code]
    pairs = [(region.code, c) for c in others] + [(c, region.code) for c in others]
    latest = _latest_lags(watch, pairs)
    lag_lines = series.lag_series(application.pk, rng, watch.now, {region.code})
    src = watch.source(pollers.replication_key(application, region.code))
    lags = []
    for other in others:
        into = watch.source(pollers.replication_key(application, other))
        lags.append({
            "other": other,
            "outgoing": lag_cell_html(_cell(latest.get((region.code, other)),
                                            lag_lines.get((region.code, other)),
                                            bool(src and src.stale), rng)),
            "incoming": lag_cell_html(_cell(latest.get((other, region.code)),
                                            lag_lines.get((other, region.code)),
                                            bool(into and into.stale), rng)),
        })
    replicas_source = watch.source(pollers.replicas_key(application))
    replicas = replicas_source.state.detail if replicas_source and replicas_source.state else None
    tile = _tile(annotated, watch, line, replicas, rng) if annotated else None
    return {
        "watch_region": region, "watch_tile": tile, "health_changes": history,
        "lags": lags, "outgoing_stale_reason": src.reason if src and src.stale else "",
        "stale_sources": watch.banner(), "poll_interval": watch.interval,
        **range_context(rng),
    }
