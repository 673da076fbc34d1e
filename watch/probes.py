"""Meridian's own probe of every region's health endpoint (HTTPS GET of its API URL + /health,
short timeouts, from the workers): a second opinion to Route 53's checkers, seconds after a
region stops answering instead of a minute or more.

In the sandbox nothing answers at the API URLs, so the probe asks the sandbox what it would see
(its injected faults); such results are marked simulated and labelled so on the tiles."""

import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from regions.models import Region

from . import pollers
from .models import HealthProbe

# (regions) -> {region id: (ok, detail)}; the sandbox registers one (sandbox/apps.py).
SIMULATORS: list[Callable[[list[Region]], dict[int, tuple[bool, str]]]] = []


def health_url(region: Region) -> str:
    return region.api_url.rstrip("/") + "/health"


def probe_url(url: str, timeout: float) -> tuple[bool, int | None, str]:
    """(ok, milliseconds, what was seen): ok means a 2xx answer within the timeout."""
    started = time.monotonic()
    request = urllib.request.Request(url, headers={"User-Agent": "meridian-probe"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            status = answer.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return False, None, f"no answer: {reason}"[:300]
    took = int((time.monotonic() - started) * 1000)
    return 200 <= status < 300, took, f"HTTP {status}"


def _targets() -> list[Region]:
    regions = Region.objects.exclude(state__in=pollers.UNWATCHED_STATES).order_by("pk")
    if settings.SANDBOX and SIMULATORS:
        return list(regions)
    return [r for r in regions if r.api_url.startswith(("https://", "http://"))]


def probe_all(now: datetime | None = None) -> dict:
    """Probe every watched region once, in parallel, and store the latest result per region."""
    regions = _targets()
    if not regions:
        return {"probed": 0, "failing": 0}
    simulated = bool(settings.SANDBOX and SIMULATORS)
    if simulated:
        seen = {pk: (ok, None, detail) for pk, (ok, detail) in SIMULATORS[0](regions).items()}
    else:
        with ThreadPoolExecutor(max_workers=min(16, len(regions))) as pool:
            answers = pool.map(lambda r: probe_url(health_url(r), settings.PROBE_TIMEOUT),
                               regions)
            seen = {r.pk: answer for r, answer in zip(regions, answers, strict=True)}
    store(seen, simulated, now or timezone.now())
    return {"probed": len(seen), "failing": sum(1 for ok, _, _ in seen.values() if not ok)}


def store(seen: dict[int, tuple[bool, int | None, str]], simulated: bool, now: datetime) -> None:
    known = {p.region_id: p for p in HealthProbe.objects.filter(region_id__in=list(seen))}
    rows = []
    for region_id, (ok, took, detail) in seen.items():
        before = known.get(region_id)
        changed = before is None or before.ok != ok
        rows.append(HealthProbe(
            region_id=region_id, checked_at=now, ok=ok, latency_ms=took, detail=detail,
            simulated=simulated, since=now if changed else before.since,
            failures=0 if ok else (before.failures + 1 if before and not before.ok else 1)))
    HealthProbe.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["region"],
        update_fields=["checked_at", "ok", "since", "failures", "latency_ms", "detail",
                       "simulated"])
