"""What the stored state says now, subject by subject: the rules of alerting, read from samples,
poll state and rollouts (never from transient events), in a fixed number of queries.

Each rule yields one Finding per subject it knows, present or not, so a subject without a finding
is gone (a region removed, a rollout forgotten). The region switch's rules (drains, restores,
forces, drills) live in traffic_findings and are listed in RULES too."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Max, Min, OuterRef, Q, Subquery
from django.urls import reverse

from deployer.models import Rollout, Status
from regions.models import Application, Region
from watch import pollers
from watch.models import HealthChange, HealthSample, PollState, ReplicationSample, is_healthy

from .models import AlertRules, Event

# A reading older than this is history, not the current state: the rule holds its verdict.
RECENT = timedelta(minutes=10)
# Finished rollouts are told about for this long, so a message missed while the queue was
# down still goes out when it comes back.
ROLLOUT_LOOKBACK = timedelta(hours=6)
# DynamoDB removes a replica that stays in one of these states for 20 hours.
COUNTDOWN_STATUSES = ("INACCESSIBLE_ENCRYPTION_CREDENTIALS", "REGION_DISABLED")
REPLICA_REMOVAL = timedelta(hours=20)
# Replica states a rollout passes through on purpose.
TRANSITIONAL = ("CREATING", "UPDATING", "DELETING")


@dataclass(frozen=True)
class Finding:
    application_id: int
    event: str
    subject: str
    present: bool | None  # None: no fresh evidence either way, so nothing changes
    summary: str  # the current state in words (a problem, or its recovery)
    since: datetime | None = None
    seen: datetime | None = None  # when the evidence was read; a newer one is a new observation
    ripe: bool = True  # the problem has lasted as long as the rule asks
    confirm: int = 1  # observations in a row to open
    clear: int = 1  # observations in a row to close
    link: str = ""
    regions: tuple[str, ...] = ()
    any_region: bool = False  # a window over any of `regions` quiets it (pairs), else all
    notice_only: bool = False  # told once, nothing to recover from
    detail: dict = field(default_factory=dict)


@dataclass
class State:
    """Everything the rules read, loaded once per evaluation."""

    now: datetime
    interval: int
    applications: list[Application]
    rules: dict[int, AlertRules]
    polls: dict[str, PollState]
    regions: dict[int, list[Region]]  # watched regions with their latest health, per app
    lags: dict[tuple[int, str, str], dict]
    rollouts: list[Rollout]
    last_success: dict[int, datetime]  # newest succeeded rollout per application
    busy: set[int]  # applications with a rollout running
    extra: dict = field(default_factory=dict)  # what other rule modules load, once


def _at(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "an unknown time"


def _ms(value: float) -> str:
    return f"{value:.0f} ms" if value < 1000 else f"{value / 1000:.1f} s"


def load(now: datetime, live_rollouts: set[int]) -> State:
    interval = pollers.poll_interval()
    applications = [a for a in pollers.watched_applications() if a.watched]
    ids = [a.pk for a in applications]
    rules = {r.application_id: r for r in AlertRules.objects.filter(application_id__in=ids)}
    for application in applications:
        rules.setdefault(application.pk, AlertRules(application=application))
    sample = HealthSample.objects.filter(region=OuterRef("pk")).order_by("-at")
    change = HealthChange.objects.filter(region=OuterRef("pk")).order_by("-at")
    regions: dict[int, list[Region]] = {pk: [] for pk in ids}
    watched = Region.objects.filter(application_id__in=ids).exclude(
        state__in=pollers.UNWATCHED_STATES).annotate(
        h_at=Subquery(sample.values("at")[:1]), h_status=Subquery(sample.values("status")[:1]),
        h_pct=Subquery(sample.values("percentage_healthy")[:1]),
        change_at=Subquery(change.values("at")[:1]),
        change_healthy=Subquery(change.values("healthy")[:1]),
        p_ok=F("probe__ok"), p_at=F("probe__checked_at"), p_since=F("probe__since"),
        p_failures=F("probe__failures"), p_detail=F("probe__detail"),
        p_simulated=F("probe__simulated")).order_by("code")
    for region in watched:
        regions[region.application_id].append(region)
    longest = max([r.lag_minutes for r in rules.values()], default=5)
    lags = {}
    if ids:
        default = AlertRules._meta.get_field("lag_threshold_ms").default
        thresholds = {pk: rules[pk].lag_threshold_ms for pk in ids}
        below = Q()
        for pk, threshold in thresholds.items():
            below |= Q(application_id=pk, latency_ms__lt=threshold or default)
        rows = (ReplicationSample.objects
                .filter(application_id__in=ids, at__gte=now - timedelta(minutes=longest + 15))
                .values("application_id", "source", "receiving")
                .annotate(latest=Max("at"), first=Min("at"), last_ok=Max("at", filter=below))
                .order_by())
        lags = {(r["application_id"], r["source"], r["receiving"]): r for r in rows}
    cutoff = now - ROLLOUT_LOOKBACK
    rollouts = list(Rollout.objects.filter(
        Q(application_id__in=ids) & (Q(finished_at__gte=cutoff)
                                     | Q(status__in=[Status.AWAITING_CONFIRMATION,
                                                     Status.QUEUED, Status.RUNNING])
                                     | Q(pk__in=live_rollouts))).order_by("created_at"))
    last_success = dict(Rollout.objects.filter(application_id__in=ids, status=Status.SUCCEEDED)
                        .values_list("application_id").annotate(Max("created_at")).order_by())
    busy = {r.application_id for r in rollouts if r.status in (Status.QUEUED, Status.RUNNING)}
    return State(now, interval, applications, rules,
                 {s.key: s for s in PollState.objects.all()}, regions, lags, rollouts,
                 last_success, busy)


def _route53(region, poll, now) -> bool | None:
    """Route 53's word on a region: unhealthy, healthy, or None when there is no fresh one."""
    fresh = region.h_at is not None and now - region.h_at <= RECENT
    if poll is None or poll.failing or not fresh or region.h_status is None:
        return None
    return not is_healthy(region.h_status)


def _probe(region, now, needed: int) -> bool | None:
    """Meridian's own probe: failing `needed` times in a row, answering, or None (no recent)."""
    if region.p_at is None or (now - region.p_at).total_seconds() > 3 * max(
            settings.PROBE_INTERVAL, 1):
        return None
    return not region.p_ok and region.p_failures >= needed


def health(state: State, application: Application) -> list[Finding]:
    """Unhealthy when Route 53 says so for N polls, or at once when Meridian's own probe has
    failed N times in a row (seconds, where Route 53's minute metric takes a minute or more)."""
    rules = state.rules[application.pk]
    poll = state.polls.get(pollers.health_key(application))
    found = []
    for region in state.regions[application.pk]:
        if not region.health_check_id and region.p_at is None:
            continue
        link = reverse("front:region_detail", args=[application.slug, region.code])
        base = dict(application_id=application.pk, event=Event.REGION_UNHEALTHY,
                    subject=region.code, link=link, regions=(region.code,),
                    clear=rules.unhealthy_polls)
        route53 = _route53(region, poll, state.now) if region.health_check_id else None
        probe = _probe(region, state.now, rules.unhealthy_polls)
        if route53 is None and probe is None:
            found.append(Finding(present=None, summary="", **base))
            continue
        seen = max(t for t in (poll.last_success_at if route53 is not None else None,
                               region.p_at if probe is not None else None) if t)
        if not (route53 or probe):
            found.append(Finding(present=False, summary=f"{region.code} is healthy again",
                                 seen=seen, **base))
            continue
        words, since = [], []
        if route53:
            share = (f" ({region.h_pct:.0f} % of Route 53's checkers see it healthy)"
                     if region.h_pct is not None else "")
            words.append(f"its Route 53 health check fails{share}, so Route 53 sends its "
                         "clients to other regions")
            since.append(region.change_at if region.change_healthy is False else region.h_at)
        if probe:
            how = " (simulated from the sandbox's faults)" if region.p_simulated else ""
            words.append(f"its health endpoint failed Meridian's last {region.p_failures} "
                         f"probes{how}: {region.p_detail}")
            since.append(region.p_since)
        # Route 53's verdict is confirmed poll by poll; the probe counted its own failures.
        found.append(Finding(present=True, since=min(s for s in since if s),
                             seen=region.p_at if probe else poll.last_success_at,
                             summary=f"{region.code} is unhealthy: " + "; ".join(words),
                             confirm=1 if probe else rules.unhealthy_polls, **base))
    return found


def lag(state: State, application: Application) -> list[Finding]:
    rules = state.rules[application.pk]
    codes = [r.code for r in state.regions[application.pk]]
    hold = timedelta(minutes=rules.lag_minutes)
    link = reverse("watch:dashboard", args=[application.slug])
    found = []
    for source in codes if len(codes) > 1 else []:
        poll = state.polls.get(pollers.replication_key(application, source))
        latest_readings = (poll.detail or {}).get("latest", {}) if poll else {}
        for receiving in [c for c in codes if c != source]:
            pair = f"{source} → {receiving}"
            base = dict(application_id=application.pk, event=Event.REPLICATION_LAG,
                        subject=pair, link=link, regions=(source, receiving), any_region=True)
            row = state.lags.get((application.pk, source, receiving))
            if (poll is None or poll.failing or row is None
                    or state.now - row["latest"] > RECENT):
                found.append(Finding(present=None, summary="", **base))
                continue
            reading = latest_readings.get(receiving)
            value = f" (now {_ms(reading[1])})" if reading else ""
            present = row["last_ok"] is None or row["latest"] > row["last_ok"]
            since = (row["last_ok"] + timedelta(minutes=1)) if row["last_ok"] else row["first"]
            threshold = _ms(rules.lag_threshold_ms)
            if present:
                summary = (f"replication {pair} lags above {threshold}{value}: writes in "
                           f"{source} reach {receiving} late")
            else:
                summary = f"replication {pair} is back under {threshold}{value}"
            ripe = row["latest"] + timedelta(minutes=1) - since >= hold
            found.append(Finding(present=present, summary=summary, since=since, ripe=ripe,
                                 seen=poll.last_success_at, **base,
                                 detail={"ms": reading[1] if reading else None}))
    return found


def _sources(application: Application, regions: list[Region]) -> list[tuple[str, str, tuple]]:
    codes = tuple(r.code for r in regions)
    sources = []
    if any(r.health_check_id for r in regions):
        sources.append((pollers.health_key(application), "Route 53 health", codes))
    if len(codes) > 1:
        sources += [(pollers.replication_key(application, c), f"replication lag from {c}", (c,))
                    for c in codes]
    if codes:
        sources.append((pollers.replicas_key(application), "the global table's replica state",
                        codes))
    return sources


def no_data(state: State, application: Application) -> list[Finding]:
    rules = state.rules[application.pk]
    regions = state.regions[application.pk]
    limit = timedelta(seconds=rules.stale_intervals * state.interval)
    watched_since = min((r.state_changed_at for r in regions), default=state.now)
    link = reverse("watch:dashboard", args=[application.slug])
    found = []
    for key, label, codes in _sources(application, regions):
        poll = state.polls.get(key)
        base = dict(application_id=application.pk, event=Event.NO_DATA, subject=key, link=link,
                    regions=codes, seen=state.now)
        last = poll.last_success_at if poll else None
        if last is not None:
            present, since = state.now - last > limit, last
        else:
            present, since = state.now - watched_since > limit, None
        error = f" (last error: {poll.last_error[:300]})" if poll and poll.failing else ""
        if present:
            when = f"since {_at(last)}" if last else "ever"
            summary = f"no successful read of {label} {when}{error}: what the dashboard shows " \
                      "is not current"
        else:
            summary = f"{label} is read again"
        found.append(Finding(present=present, summary=summary, since=since or watched_since,
                             **base))
    return found


def replicas(state: State, application: Application) -> list[Finding]:
    rules = state.rules[application.pk]
    poll = state.polls.get(pollers.replicas_key(application))
    detail = (poll.detail or {}) if poll else {}
    found = []
    for region in state.regions[application.pk]:
        if region.code == application.main_region:
            continue
        base = dict(application_id=application.pk, event=Event.REPLICA_STATUS,
                    subject=region.code, regions=(region.code,), confirm=rules.unhealthy_polls,
                    clear=rules.unhealthy_polls,
                    link=reverse("front:region_detail", args=[application.slug, region.code]))
        status = detail.get("replicas", {}).get(region.code, "MISSING")
        planned = application.pk in state.busy and status in (*TRANSITIONAL, "MISSING")
        if poll is None or poll.failing or not detail.get("reported") or planned:
            found.append(Finding(present=None, summary="", **base))
            continue
        if status == "ACTIVE":
            summary = f"the global table's replica in {region.code} is ACTIVE again"
        elif status == "MISSING":
            summary = (f"the global table has no replica in {region.code}, yet the region "
                       "serves traffic")
        else:
            summary = f"the global table's replica in {region.code} is {status}"
        found.append(Finding(present=status != "ACTIVE", summary=summary, seen=poll.last_success_at,
                             since=poll.last_success_at, **base, detail={"status": status}))
    return found


def rollouts(state: State, application: Application) -> list[Finding]:
    found = []
    for rollout in [r for r in state.rollouts if r.application_id == application.pk]:
        link = reverse("deployer:rollout_detail", args=[rollout.pk])
        name = f"{rollout.get_kind_display().lower()} rollout {rollout.pk}"
        base = dict(application_id=application.pk, subject=str(rollout.pk), link=link,
                    seen=state.now)
        waiting = rollout.status == Status.AWAITING_CONFIRMATION
        found.append(Finding(
            event=Event.ROLLOUT_WAITING, present=waiting, since=rollout.created_at, **base,
            summary=(f"{name} waits for an operator to confirm stateful changes: "
                     f"{rollout.explanation or 'replacements or removals'}") if waiting else
                    f"{name} no longer waits: it is {rollout.get_status_display().lower()}"))
        if rollout.status in (Status.FAILED, Status.ERROR):
            later = state.last_success.get(application.pk)
            fixed = later is not None and later > rollout.created_at
            found.append(Finding(
                event=Event.ROLLOUT_FAILED, present=not fixed, since=rollout.finished_at, **base,
                summary=(f"a later rollout of {application.slug} succeeded" if fixed else
                         f"{name} {rollout.get_status_display().lower()}: "
                         f"{rollout.explanation or 'see its log'}")))
        if rollout.status == Status.SUCCEEDED:
            found.append(Finding(event=Event.ROLLOUT_SUCCEEDED, present=True, notice_only=True,
                                 since=rollout.finished_at, summary=f"{name} succeeded", **base))
    return found


from .traffic_findings import drills, routing_drift, traffic_changes  # noqa: E402 - they use Finding, State

RULES = (health, lag, no_data, replicas, rollouts, traffic_changes, drills, routing_drift)


def countdown(event: str, detail: dict, started_at: datetime) -> str:
    """DynamoDB's removal deadline of a replica, when its state starts one."""
    if event == Event.REPLICA_STATUS and detail.get("status") in COUNTDOWN_STATUSES:
        return (f"DynamoDB removes a replica left in this state for 20 hours: around "
                f"{_at(started_at + REPLICA_REMOVAL)} unless it is fixed")
    return ""
