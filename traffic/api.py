"""Traffic over JSON: drain, restore or force a region, and the changes made so far."""

from datetime import datetime
from typing import Literal

from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema
from ninja.errors import HttpError

from accounts.audit import Actor, client_ip
from accounts.auth import api_auth
from accounts.models import AuditSource
from accounts.roles import ADMIN, OPERATOR, VIEWER, has_role
from lib.api_schemas import ERRORS, ErrorOut, StrictIn
from regions.models import Application, Traffic

from . import dns, services
from .models import ChangeStatus, TrafficChange

router = Router(tags=["traffic"])


class TrafficIn(StrictIn):
    state: Literal["serving", "drained", "forced"]
    reason: str = ""


class TrafficChangeOut(Schema):
    id: int
    application: str
    region: str
    from_state: str
    to_state: str
    status: str  # applying, applied or failed
    path: str  # route53, cloudwatch, both or "" (none acted)
    reason: str
    actor: str
    source: str
    requested_at: datetime
    route53_at: datetime | None
    cloudwatch_at: datetime | None
    finished_at: datetime | None
    seconds_to_route53: float | None
    route53_error: str
    cloudwatch_error: str


def change_out(change: TrafficChange) -> dict:
    return {
        "id": change.pk, "application": change.application.slug, "region": change.region.code,
        "from_state": change.from_state, "to_state": change.to_state, "status": change.status,
        "path": change.path, "reason": change.reason, "actor": change.actor_name,
        "source": change.source, "requested_at": change.requested_at,
        "route53_at": change.route53_at, "cloudwatch_at": change.cloudwatch_at,
        "finished_at": change.finished_at, "seconds_to_route53": change.seconds_to_route53,
        "route53_error": change.route53_error, "cloudwatch_error": change.cloudwatch_error,
    }


@router.post("/applications/{slug}/regions/{code}/traffic",
             response={200: TrafficChangeOut, 502: ErrorOut, **ERRORS},
             auth=api_auth(OPERATOR),
             openapi_extra={"responses": {
                 409: {"description": "Refused: the guard (min_serving), another traffic change "
                                      "under way, or a region without a routing check."},
                 502: {"description": "Neither switch took effect: AWS's answers are in the "
                                      "message."},
             }})
def change_traffic(request, slug: str, code: str, payload: TrafficIn):
    """Drain (`drained`), restore (`serving`) or force serving (`forced`, admins only)."""
    application = get_object_or_404(Application, slug=slug)
    if payload.state == Traffic.FORCED and not has_role(request.auth, ADMIN):
        raise HttpError(403, "Forcing a region to serve needs the admin role.")
    actor = Actor(request.auth, AuditSource.API, client_ip(request))
    try:
        change = services.change_traffic(application, code, payload.state, actor,
                                         payload.reason)
    except services.TrafficError as exc:
        raise HttpError(exc.status if not isinstance(exc, services.Refused) else 409,
                        str(exc)) from None
    if change.status == ChangeStatus.FAILED:
        raise HttpError(502, services.failure_message(change))
    return change_out(change)


@router.get("/applications/{slug}/traffic/changes", response={200: list[TrafficChangeOut],
                                                              **ERRORS},
            auth=api_auth(VIEWER))
def traffic_changes(request, slug: str, limit: int = Query(50, ge=1, le=500)):
    """The application's traffic changes, newest first."""
    application = get_object_or_404(Application, slug=slug)
    changes = (TrafficChange.objects.filter(application=application)
               .select_related("application", "region")[:limit])
    return [change_out(c) for c in changes]


class DnsAnswerOut(Schema):
    client: str  # the region clients are near (its EDNS0 client subnet on AWS)
    answer: str | None  # the region Route 53 answers them with; null when it could not be read
    simulated: bool  # true in the sandbox: worked out by Route 53's rules, not asked of it
    note: str  # why there is no answer, in words; "" otherwise


class DnsAnswersOut(Schema):
    answers: list[DnsAnswerOut]
    checked_at: datetime
    simulated: bool


@router.get("/applications/{slug}/dns", response={200: DnsAnswersOut, **ERRORS},
            auth=api_auth(VIEWER))
def dns_answers(request, slug: str, fresh: bool = False):
    """What Route 53 answers clients near each region ("clients near → served by"): cached
    for TRAFFIC_DNS_TTL seconds; `fresh=true` asks again (operators only)."""
    application = get_object_or_404(Application, slug=slug)
    checked = dns.check(application, fresh=fresh and has_role(request.auth, OPERATOR))
    return {"answers": [{"client": a.client, "answer": a.answer, "simulated": a.simulated,
                         "note": a.note} for a in checked.answers],
            "checked_at": checked.checked_at, "simulated": checked.simulated}
