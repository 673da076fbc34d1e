"""Drills over JSON: start one, read one with its timeline, the history (also as CSV), and
weekly schedules."""

from datetime import datetime, time
from typing import Literal

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from accounts.audit import Actor, client_ip
from accounts.auth import api_auth
from accounts.models import AuditSource
from accounts.roles import OPERATOR, VIEWER
from lib.api_schemas import ERRORS, ErrorOut, StrictIn
from regions.models import Application

from . import drill_csv, drill_schedules, drills, services
from .models import MAX_MINUTES, MIN_MINUTES, Drill, DrillSchedule, DrillStatus

router = Router(tags=["drills"])


class DrillIn(StrictIn):
    region: str
    minutes: float = Field(ge=MIN_MINUTES, le=MAX_MINUTES,
                           description="How long the region stays drained (0.1-1440; "
                                       "decimals allowed).")


class DrillEventOut(Schema):
    at: datetime
    kind: str
    message: str


class DrillOut(Schema):
    id: int
    application: str
    region: str
    status: str  # running, restored or failed
    minutes: float
    requested_by: str
    source: str
    schedule: int | None
    requested_at: datetime
    ends_at: datetime
    drained_at: datetime | None
    routing_unhealthy_at: datetime | None
    dns_shifted_at: datetime | None
    restore_requested_at: datetime | None
    restored_at: datetime | None
    answers_back_at: datetime | None
    finished_at: datetime | None
    seconds_to_dns_shift: float | None
    seconds_to_restore: float | None
    abort_reason: str
    explanation: str
    timeline: list[DrillEventOut]


def drill_out(drill: Drill, timeline: bool = True) -> dict:
    return {
        "id": drill.pk, "application": drill.application.slug, "region": drill.region.code,
        "status": drill.status, "minutes": drill.minutes, "requested_by": drill.actor_name,
        "source": drill.source, "schedule": drill.schedule_id,
        "requested_at": drill.requested_at, "ends_at": drill.ends_at,
        "drained_at": drill.drained_at, "routing_unhealthy_at": drill.unhealthy_at,
        "dns_shifted_at": drill.shifted_at, "restore_requested_at": drill.restore_requested_at,
        "restored_at": drill.restored_at, "answers_back_at": drill.answers_back_at,
        "finished_at": drill.finished_at, "seconds_to_dns_shift": drill.seconds_to_dns_shift,
        "seconds_to_restore": drill.seconds_to_restore, "abort_reason": drill.abort_reason,
        "explanation": drill.explanation,
        "timeline": [{"at": e.at, "kind": e.kind, "message": e.message}
                     for e in drill.events.all()] if timeline else [],
    }


@router.post("/applications/{slug}/drills", response={201: DrillOut, 502: ErrorOut, **ERRORS},
             auth=api_auth(OPERATOR),
             openapi_extra={"responses": {
                 409: {"description": "Refused: the guard (min_serving), a traffic change or "
                                      "another drill under way, or no routing check."},
                 502: {"description": "The drain did not take effect: AWS's answers are in "
                                      "the message."}}})
def start_drill(request, slug: str, payload: DrillIn):
    """Drain `region` for `minutes`, then restore it by itself; poll `GET /drills/{id}`."""
    application = get_object_or_404(Application, slug=slug)
    actor = Actor(request.auth, AuditSource.API, client_ip(request))
    try:
        drill = drills.start(application, payload.region, payload.minutes, actor)
    except services.TrafficError as exc:
        raise HttpError(409 if isinstance(exc, services.Refused) else 400, str(exc)) from None
    if drill.status == DrillStatus.FAILED:
        raise HttpError(502, drill.explanation)
    return Status(201, drill_out(drill))


@router.get("/drills/{pk}", response={200: DrillOut, **ERRORS}, auth=api_auth(VIEWER))
def drill_detail(request, pk: int):
    """One drill: its status, measured times and timeline."""
    drill = get_object_or_404(Drill.objects.select_related("application", "region"), pk=pk)
    return drill_out(drill)


@router.get("/applications/{slug}/drills", response={200: list[DrillOut], **ERRORS},
            auth=api_auth(VIEWER),
            openapi_extra={"responses": {200: {"content": {"text/csv": {
                "schema": {"type": "string"}}}}}})
def drill_list(request, slug: str, limit: int = Query(50, ge=1, le=1000),
               format: Literal["json", "csv"] = "json"):  # noqa: A002 - the query's name
    """The application's drills, newest first (timelines left out); `?format=csv` for CSV."""
    application = get_object_or_404(Application, slug=slug)
    found = (Drill.objects.filter(application=application)
             .select_related("application", "region")[:limit])
    if format == "csv":
        return drill_csv.response(application, found)
    return [drill_out(d, timeline=False) for d in found]


class ScheduleIn(StrictIn):
    region: str
    weekday: int = Field(ge=0, le=6, description="0 = Monday … 6 = Sunday.")
    at: time = Field(description="Time of day, UTC (HH:MM).")
    minutes: float = Field(5, ge=MIN_MINUTES, le=MAX_MINUTES)
    window_minutes: int = Field(60, ge=1, le=24 * 60)
    blocked_dates: list[str] = Field(default_factory=list,
                                     description="Dates (YYYY-MM-DD, UTC) without a drill.")
    enabled: bool = True


class ScheduleOut(Schema):
    id: int
    application: str
    region: str
    weekday: int
    at: time
    minutes: float
    window_minutes: int
    blocked_dates: list[str]
    enabled: bool
    next_start: datetime
    last_on: str | None
    last_note: str


def schedule_out(schedule: DrillSchedule) -> dict:
    return {"id": schedule.pk, "application": schedule.application.slug,
            "region": schedule.region.code, "weekday": schedule.weekday, "at": schedule.at,
            "minutes": schedule.minutes, "window_minutes": schedule.window_minutes,
            "blocked_dates": schedule.blocked_dates, "enabled": schedule.enabled,
            "next_start": drill_schedules.next_start(schedule),
            "last_on": schedule.last_on.isoformat() if schedule.last_on else None,
            "last_note": schedule.last_note}


@router.get("/applications/{slug}/drill-schedules", response={200: list[ScheduleOut], **ERRORS},
            auth=api_auth(VIEWER))
def schedule_list(request, slug: str):
    application = get_object_or_404(Application, slug=slug)
    return [schedule_out(s) for s in application.drill_schedules.select_related(
        "application", "region")]


@router.post("/applications/{slug}/drill-schedules", response={201: ScheduleOut, **ERRORS},
             auth=api_auth(OPERATOR))
def schedule_create(request, slug: str, payload: ScheduleIn):
    """A weekly drill; beat starts it when due, skipping blocked dates."""
    application = get_object_or_404(Application, slug=slug)
    data = payload.dict()
    code = data.pop("region")
    try:
        schedule = drill_schedules.create(application, code, data,
                                          Actor(request.auth, AuditSource.API,
                                                client_ip(request)))
    except services.TrafficError as exc:
        raise HttpError(400, str(exc)) from None
    return Status(201, schedule_out(schedule))


@router.delete("/drill-schedules/{pk}", response={204: None, **ERRORS},
               auth=api_auth(OPERATOR))
def schedule_delete(request, pk: int):
    schedule = get_object_or_404(DrillSchedule.objects.select_related("application", "region"),
                                 pk=pk)
    drill_schedules.delete(schedule, Actor(request.auth, AuditSource.API, client_ip(request)))
    return Status(204, None)
