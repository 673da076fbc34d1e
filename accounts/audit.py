"""The audit trail: who changed what, written in the same transaction as the change, and the
one filter the audit page and the API both use."""

import ipaddress
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from .models import AuditEntry, AuditSource


@dataclass(frozen=True)
class Actor:
    user: object | None
    source: str = AuditSource.WEB
    remote_addr: str | None = None

    @property
    def name(self) -> str:
        if self.user is None:
            return "system"
        if getattr(self.user, "is_authenticated", False):
            return self.user.get_username()
        return "anonymous"

    @classmethod
    def from_request(cls, request, source: str = AuditSource.WEB) -> "Actor":
        return cls(user=request.user, source=source, remote_addr=client_ip(request))


def client_ip(request) -> str | None:
    """The client's address: the one the trusted proxy saw (the last X-Forwarded-For entry,
    which the proxy appends itself) when TRUST_PROXY_HEADERS is on, else the peer's."""
    if settings.TRUST_PROXY_HEADERS:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(forwarded))
        except ValueError:
            pass  # absent or not an address: the peer is all we know
    return request.META.get("REMOTE_ADDR") or None


def record(
    actor: Actor,
    action: str,
    obj,
    *,
    application=None,
    application_slug: str = "",
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEntry:
    user = actor.user if getattr(actor.user, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        actor=user,
        actor_name=actor.name,
        source=actor.source,
        remote_addr=actor.remote_addr,
        action=action,
        object_type=type(obj).__name__.lower(),
        object_id=str(getattr(obj, "pk", "") or ""),
        object_repr=str(obj)[:200],
        application=application,
        application_slug=application.slug if application else application_slug,
        before=before,
        after=after,
    )


def audit_entries(*, actor: str = "", application: str = "", action: str = "", source: str = "",
                  since: datetime | None = None, until: datetime | None = None) -> QuerySet:
    """Entries newest first. `actor`, `application`, `action` and `source` match exactly;
    `since` is inclusive and `until` exclusive."""
    entries = AuditEntry.objects.order_by("-created_at", "-id")
    if actor:
        entries = entries.filter(actor_name=actor)
    if application:
        entries = entries.filter(application_slug=application)
    if action:
        entries = entries.filter(action=action)
    if source:
        entries = entries.filter(source=source)
    if since is not None:
        entries = entries.filter(created_at__gte=since)
    if until is not None:
        entries = entries.filter(created_at__lt=until)
    return entries


def day_start(day: date, *, next_day: bool = False) -> datetime:
    """Midnight UTC at the start of `day` (or of the day after: OverflowError on the last)."""
    moment = datetime.combine(day, time.min, tzinfo=UTC)
    return moment + timedelta(days=1) if next_day else moment


def parse_moment(name: str, value: str, *, end: bool) -> datetime:
    """An ISO date (the whole day) or date-time; a naive time is UTC."""
    try:
        if len(value) == 10:
            return day_start(date.fromisoformat(value), next_day=end)
        moment = datetime.fromisoformat(value)
        # Dates at the ends of the calendar overflow here, not later in the database.
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValidationError(
            {name: ["Enter an ISO 8601 date or date-time, such as 2026-11-27 or "
                    "2026-11-27T08:30:00Z."]}
        ) from None
