"""The audit trail over JSON."""

from datetime import datetime

from django.core.exceptions import ValidationError
from ninja import Field, Query, Router, Schema

from lib.api_schemas import ERRORS

from .audit import audit_entries, parse_moment
from .auth import api_auth
from .models import AuditSource
from .roles import VIEWER

router = Router(tags=["audit"])

MAX_PAGE = 500


class AuditEntryOut(Schema):
    id: int
    created_at: datetime
    actor: str = Field(alias="actor_name")
    source: str
    remote_addr: str | None
    action: str
    object_type: str
    object_id: str
    object_repr: str
    application: str = Field(alias="application_slug")
    before: dict | None
    after: dict | None


class AuditPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[AuditEntryOut]


@router.get("/audit", response={200: AuditPageOut, **ERRORS}, auth=api_auth(VIEWER))
def audit_list(
    request,
    actor: str | None = Query(None, description="User name of whoever made the change."),
    application: str | None = Query(None, description="Application slug."),
    action: str | None = Query(None, description="For example region.add."),
    source: AuditSource | None = Query(None, description="Where the change came from."),  # noqa: B008
    since: str | None = Query(None, description="ISO date or date-time, inclusive."),
    until: str | None = Query(None, description="ISO date (inclusive) or date-time "
                                                "(exclusive)."),
    limit: int = Query(100, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0, le=2**31 - 1),
):
    """The audit trail, newest first."""
    errors: dict[str, list[str]] = {}
    moments = {}
    for name, value, end in (("since", since, False), ("until", until, True)):
        if value:
            try:
                moments[name] = parse_moment(name, value, end=end)
            except ValidationError as exc:
                errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    entries = audit_entries(actor=actor or "", application=application or "",
                            action=action or "", source=source or "", **moments)
    return {
        "count": entries.count(),
        "limit": limit,
        "offset": offset,
        "items": list(entries[offset:offset + limit]),
    }
