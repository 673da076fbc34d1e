"""Alerts over JSON: channels (admins), rules (admins), maintenance windows (operators) and the
history of incidents with every delivery attempt. Changes go through alerts.services; channel
URLs are write-only and answered masked."""

from datetime import datetime
from typing import Annotated, Literal

from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Strict

from accounts.audit import Actor, client_ip
from accounts.auth import api_auth
from accounts.models import AuditSource
from accounts.roles import ADMIN, OPERATOR, VIEWER
from lib.api_schemas import ERRORS, StrictIn, model_field, model_schema
from regions.models import Application

from . import delivery, services
from .models import RULE_FIELDS, AlertRules, Channel, Delivery, Event, MaintenanceWindow

router = Router(tags=["alerts"])

# Plain strings in JSON (strict bodies take no enum instances), documented as an enum.
EventName = Literal[tuple(Event.values)]
# ISO 8601 text in JSON: parsed, where strict bodies would want a datetime object.
Moment = Annotated[datetime, Strict(False)]


class ChannelIn(StrictIn):
    name: str = model_field(Channel, "name", "required")
    url: str = model_field(Channel, "url", "required")
    applications: list[str] = model_field(Channel, "applications")
    events: list[EventName] = model_field(Channel, "events")
    enabled: bool = model_field(Channel, "enabled")


class ChannelPatch(StrictIn):
    """Only the fields sent change."""

    name: str = model_field(Channel, "name", "patch")
    url: str = model_field(Channel, "url", "patch")
    applications: list[str] = model_field(Channel, "applications", "patch")
    events: list[EventName] = model_field(Channel, "events", "patch")
    enabled: bool = model_field(Channel, "enabled", "patch")


class ChannelOut(Schema):
    id: int
    name: str
    url: str  # masked: scheme and host only
    applications: list[str]
    events: list[str]
    enabled: bool
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_url(obj: Channel) -> str:
        return obj.masked_url


class AttemptOut(Schema):
    number: int
    at: datetime
    ok: bool
    error: str
    duration_ms: int


class DeliveryOut(Schema):
    id: int
    channel: str
    status: str
    attempts: int
    last_error: str
    title: str
    created_at: datetime
    finished_at: datetime | None
    attempt_log: list[AttemptOut]

    @staticmethod
    def resolve_channel(obj: Delivery) -> str:
        return obj.channel_name

    @staticmethod
    def resolve_attempt_log(obj: Delivery) -> list:
        return list(obj.attempt_log.all())


class NoticeOut(Schema):
    kind: str
    created_at: datetime
    deliveries: list[DeliveryOut]

    @staticmethod
    def resolve_deliveries(obj) -> list:
        return list(obj.deliveries.all())


class IncidentOut(Schema):
    id: int
    application: str
    event: str
    subject: str
    status: str
    summary: str
    recovery: str
    link: str
    started_at: datetime
    opened_at: datetime | None
    resolved_at: datetime | None
    suppressed: bool
    notices: list[NoticeOut]

    @staticmethod
    def resolve_application(obj) -> str:
        return obj.application.slug

    @staticmethod
    def resolve_suppressed(obj) -> bool:
        return obj.was_suppressed

    @staticmethod
    def resolve_notices(obj) -> list:
        return list(obj.notices.all())


RulesIn = model_schema("AlertRulesPatch", AlertRules, RULE_FIELDS, mode="patch", base=StrictIn,
                       doc="Only the fields sent change.")
RulesOut = model_schema("AlertRulesOut", AlertRules, RULE_FIELDS, mode="out")


class WindowIn(StrictIn):
    application: str
    regions: list[str] = model_field(MaintenanceWindow, "regions")
    starts_at: Moment | None = None
    ends_at: Moment
    reason: str = model_field(MaintenanceWindow, "reason", "required")


class WindowPatch(StrictIn):
    """Only the fields sent change; send ends_at to end a window early."""

    regions: list[str] = model_field(MaintenanceWindow, "regions", "patch")
    starts_at: Moment = None
    ends_at: Moment = None
    reason: str = model_field(MaintenanceWindow, "reason", "patch")


class WindowOut(Schema):
    id: int
    application: str
    regions: list[str]
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str

    @staticmethod
    def resolve_application(obj) -> str:
        return obj.application.slug


def _actor(request) -> Actor:
    return Actor(request.auth, AuditSource.API, client_ip(request))


def _application(slug: str) -> Application:
    application = Application.objects.filter(slug=slug).first()
    if application is None:
        raise HttpError(404, f"There is no application {slug!r}.")
    return application


def _strict_json(data: dict) -> dict:
    # Pydantic's datetimes are parsed already; plain lists stay lists of text.
    return {k: [str(v) for v in value] if isinstance(value, list) else value
            for k, value in data.items()}


@router.get("/channels", response={200: list[ChannelOut], **ERRORS}, auth=api_auth(ADMIN))
def channel_list(request):
    return Channel.objects.all()


@router.post("/channels", response={201: ChannelOut, **ERRORS}, auth=api_auth(ADMIN))
def channel_create(request, payload: ChannelIn):
    """Add a channel; applications and events left empty mean all of them."""
    data = _strict_json(payload.model_dump(exclude_unset=True))
    return Status(201, services.create_channel(data, _actor(request)))


@router.get("/channels/{pk}", response={200: ChannelOut, **ERRORS}, auth=api_auth(ADMIN))
def channel_detail(request, pk: int):
    return get_object_or_404(Channel, pk=pk)


@router.patch("/channels/{pk}", response={200: ChannelOut, **ERRORS}, auth=api_auth(ADMIN))
def channel_update(request, pk: int, payload: ChannelPatch):
    channel = get_object_or_404(Channel, pk=pk)
    data = _strict_json(payload.model_dump(exclude_unset=True))
    return services.update_channel(channel, data, _actor(request))


@router.delete("/channels/{pk}", response={204: None, **ERRORS}, auth=api_auth(ADMIN))
def channel_delete(request, pk: int):
    services.delete_channel(get_object_or_404(Channel, pk=pk), _actor(request))
    return Status(204, None)


@router.post("/channels/{pk}/test", response={202: DeliveryOut, **ERRORS}, auth=api_auth(ADMIN))
def channel_test(request, pk: int):
    """Queue a test message; GET /alerts/deliveries/{id} shows how it went."""
    return Status(202, services.test_channel(get_object_or_404(Channel, pk=pk), _actor(request)))


@router.get("/alerts/deliveries/{pk}", response={200: DeliveryOut, **ERRORS},
            auth=api_auth(ADMIN))
def delivery_detail(request, pk: int):
    return get_object_or_404(Delivery, pk=pk)


@router.get("/alerts", response={200: list[IncidentOut], **ERRORS}, auth=api_auth(VIEWER))
def alert_list(request, application: str = "", status: str = "",
               limit: int = Query(100, ge=1, le=500)):
    """Incidents newest first, each with its messages, their deliveries and every attempt."""
    return list(delivery.history(application, status)[:limit])


@router.get("/applications/{slug}/alert-rules", response={200: RulesOut, **ERRORS},
            auth=api_auth(VIEWER))
def rules_detail(request, slug: str):
    return services.rules_for(_application(slug))


@router.patch("/applications/{slug}/alert-rules", response={200: RulesOut, **ERRORS},
              auth=api_auth(ADMIN))
def rules_update(request, slug: str, payload: RulesIn):
    return services.update_rules(_application(slug), payload.model_dump(exclude_unset=True),
                                 _actor(request))


@router.get("/maintenance-windows", response={200: list[WindowOut], **ERRORS},
            auth=api_auth(VIEWER))
def window_list(request, application: str = ""):
    windows = MaintenanceWindow.objects.select_related("application")
    return windows.filter(application__slug=application) if application else windows


@router.post("/maintenance-windows", response={201: WindowOut, **ERRORS},
             auth=api_auth(OPERATOR))
def window_create(request, payload: WindowIn):
    """Hold failure messages about these regions (empty: all) from starts_at (default: now)."""
    data = _strict_json(payload.model_dump(exclude_unset=True))
    application = _application(data.pop("application"))
    if data.get("starts_at") is None:
        data.pop("starts_at", None)
    return Status(201, services.create_window(application, data, _actor(request)))


@router.get("/maintenance-windows/{pk}", response={200: WindowOut, **ERRORS},
            auth=api_auth(VIEWER))
def window_detail(request, pk: int):
    return get_object_or_404(MaintenanceWindow, pk=pk)


@router.patch("/maintenance-windows/{pk}", response={200: WindowOut, **ERRORS},
              auth=api_auth(OPERATOR))
def window_update(request, pk: int, payload: WindowPatch):
    window = get_object_or_404(MaintenanceWindow, pk=pk)
    data = _strict_json(payload.model_dump(exclude_unset=True))
    return services.update_window(window, data, _actor(request))


@router.delete("/maintenance-windows/{pk}", response={204: None, **ERRORS},
               auth=api_auth(OPERATOR))
def window_delete(request, pk: int):
    services.delete_window(get_object_or_404(MaintenanceWindow, pk=pk), _actor(request))
    return Status(204, None)
