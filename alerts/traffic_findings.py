"""The region switch's rules: notices for drains, restores and forces, for drills started and
ended, and the quiet a running drill brings to failure messages about its region.

Drill changes of traffic are told as the drill's own notices, not as drains and restores. A
routing check whose threshold differs from the region's traffic state (changed outside
Meridian, read by the traffic app's drift check each poll) is an incident of its own."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q
from django.urls import reverse

from traffic.models import ChangeStatus, Drill, DrillStatus, RoutingReading, TrafficChange

from .findings import RECENT, Finding, State
from .models import Event

# Told for this long after they happened, so a message missed while the queue was down still
# goes out when it comes back (as rollouts).
LOOKBACK = timedelta(hours=6)
VERB_EVENTS = {"drained": Event.REGION_DRAINED, "serving": Event.REGION_RESTORED,
               "forced": Event.REGION_FORCED}
VERBS = {"drained": "drained", "serving": "restored", "forced": "forced to serve"}


@dataclass(frozen=True)
class DrillQuiet:
    """A running drill, as evaluate sees a maintenance window over its region."""

    drill_id: int
    application_id: int
    region: str

    def covers(self, codes, *, any_region: bool = False) -> bool:
        wanted = set(codes)
        return self.region in wanted if any_region else wanted == {self.region}


def quiets() -> list[DrillQuiet]:
    return [DrillQuiet(pk, app, code) for pk, app, code in Drill.objects.filter(
        status=DrillStatus.RUNNING).values_list("pk", "application_id", "region__code")]


def _loaded(state: State) -> dict:
    """The traffic changes and drills of the lookback, loaded once per evaluation."""
    if "traffic" not in state.extra:
        ids = [a.pk for a in state.applications]
        cutoff = state.now - LOOKBACK
        changes = list(TrafficChange.objects.filter(
            application_id__in=ids, requested_at__gte=cutoff,
            status__in=[ChangeStatus.APPLIED, ChangeStatus.FAILED]).exclude(source="drill")
            .select_related("region").order_by("requested_at"))
        drills = list(Drill.objects.filter(
            Q(requested_at__gte=cutoff) | Q(finished_at__gte=cutoff) | Q(finished_at=None),
            application_id__in=ids).select_related("region").order_by("requested_at"))
        state.extra["traffic"] = {"changes": changes, "drills": drills}
    return state.extra["traffic"]


def traffic_changes(state: State, application) -> list[Finding]:
    if not state.rules[application.pk].traffic_notices:
        return []
    found = []
    for change in [c for c in _loaded(state)["changes"] if c.application_id == application.pk]:
        code = change.region.code
        verb = VERBS[change.to_state]
        if change.status == ChangeStatus.APPLIED:
            how = f" through {change.get_path_display().lower()}" if change.path else ""
            summary = f"{code} {verb} by {change.actor_name}{how}"
        else:
            summary = (f"{code} could not be {verb} (asked by {change.actor_name}); it is still "
                       f"{change.get_from_state_display().lower()}")
        if change.reason:
            summary += f": “{change.reason}”"
        found.append(Finding(
            application_id=application.pk, event=VERB_EVENTS[change.to_state],
            subject=f"{code}, change {change.pk}", present=True, notice_only=True,
            summary=summary, since=change.requested_at, seen=state.now, regions=(code,),
            link=reverse("front:region_detail", args=[application.slug, code])))
    return found


def drills(state: State, application) -> list[Finding]:
    if not state.rules[application.pk].drill_notices:
        return []
    found = []
    for drill in [d for d in _loaded(state)["drills"] if d.application_id == application.pk]:
        code = drill.region.code
        base = dict(application_id=application.pk, subject=f"{code}, drill {drill.pk}",
                    present=True, notice_only=True, seen=state.now, regions=(code,),
                    link=reverse("traffic:drill_detail", args=[drill.pk]))
        if drill.drained_at is not None:
            found.append(Finding(
                event=Event.DRILL_STARTED, since=drill.requested_at, **base,
                summary=(f"drill {drill.pk} drained {code} for {drill.minutes:g} min "
                         f"(by {drill.actor_name}); it restores by itself at "
                         f"{drill.ends_at:%H:%M:%S} UTC")))
        if drill.finished_at is not None:
            found.append(Finding(
                event=Event.DRILL_ENDED, since=drill.finished_at, **base,
                summary=f"drill {drill.pk} of {code} {drill.get_status_display().lower()}: "
                        f"{drill.explanation}"))
    return found


def routing_drift(state: State, application) -> list[Finding]:
    """The routing check's threshold says something else than the region's traffic state."""
    regions = state.regions[application.pk]
    readings = {r.region_id: r for r in RoutingReading.objects.filter(
        region_id__in=[r.pk for r in regions]).select_related("region")}
    found = []
    for region in regions:
        reading = readings.get(region.pk)
        base = dict(application_id=application.pk, event=Event.ROUTING_DRIFT,
                    subject=region.code, regions=(region.code,),
                    link=reverse("front:region_detail", args=[application.slug, region.code]))
        if reading is None or reading.error or state.now - reading.read_at > RECENT:
            found.append(Finding(present=None, summary="", **base))
            continue
        drift = reading.current_drift()
        if not drift:
            found.append(Finding(present=False, seen=reading.read_at, summary=(
                f"{region.code}'s routing check agrees with its traffic state "
                f"({reading.region.get_traffic_display().lower()}) again"), **base))
            continue
        found.append(Finding(present=True, since=reading.read_at, seen=reading.read_at, summary=(
            f"{region.code}'s routing check {drift}: Route 53 acts on the threshold it holds, "
            "not on the inventory; drain or restore the region again, or deploy it, to set it "
            "back"), **base))
    return found
