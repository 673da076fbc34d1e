"""Rollouts over JSON: plan, apply, deploy, follow and cancel.

A second deploy while one is active answers 409 with the active rollout's id."""

import json
from datetime import datetime

from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import ValidationError as PydanticError

from accounts.audit import Actor, client_ip
from accounts.auth import api_auth
from accounts.roles import OPERATOR, VIEWER
from lib.api_schemas import ERRORS as COMMON_ERRORS
from lib.api_schemas import StrictIn
from lib.moments import change_set_url
from regions.models import Application, Region

from . import rollouts
from .models import Deployment, DeploymentEvent, Rollout

router = Router(tags=["rollouts"])

MAX_EVENTS = 1000


class ConflictOut(Schema):
    errors: dict[str, list[str]]
    active_rollout: int | None = Field(None, description="The rollout that is running.")


ERRORS = {**COMMON_ERRORS, 409: ConflictOut}


class PropertyChangeOut(Schema):
    path: str
    name: str
    change: str = Field(description="Add, Remove or Modify; empty when not given.")
    before: str | None = Field(description="The value before; null when not given.")
    after: str | None
    recreation: str = Field(description="Never, Conditionally or Always.")


class ChangeOut(Schema):
    logical_id: str
    type: str
    action: str
    replacement: bool | str
    stateful_flag: bool
    details: list[PropertyChangeOut] = Field([], description="The properties it changes, with "
                                                            "their values before and after.")


class DeploymentOut(Schema):
    id: int
    step: int
    region: str
    action: str
    replicas: list[str]
    depends_on: list[int]
    stack_name: str
    change_set_id: str
    change_set_name: str
    change_set_url: str = Field(description="Its page in the AWS console; empty in the sandbox.")
    status: str
    explanation: str
    changes: list[ChangeOut]
    resources_total: int
    resources_done: int
    progress: int
    outputs: dict
    started_at: datetime | None
    finished_at: datetime | None
    elapsed: float | None


class RolloutOut(Schema):
    id: int
    application: str
    kind: str
    status: str
    gate: str = Field(description="What a running rollout waits for: bake, approval or empty.")
    explanation: str
    release_label: str
    only_region: str = Field(description="The one region deployed, empty for all.")
    needs_confirmation: bool
    require_approval: bool
    rollback_of: int | None = Field(description="The rollout whose templates this re-applies.")
    requested_by: str | None
    requested_via: str = Field(description="web, api or cli.")
    confirmed_by: str | None
    approved_by: str | None
    approved_at: datetime | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    elapsed: float | None
    url: str
    deployments: list[DeploymentOut]


class DeployIn(StrictIn):
    region: str = Field("", max_length=32,
                        description="Deploy this region alone (the inventory must not be "
                                    "adding or removing regions).")
    label: str = Field("", max_length=100, description="A release label, shown on the rollout "
                                                       "and passed to the app as `release`.")
    require_approval: bool | None = Field(
        None, description="Wait for approval after the main region; absent: the application's "
                          "default.")


class EventOut(Schema):
    id: int
    deployment: int
    region: str
    seq: int
    created_at: datetime
    source: str
    level: str
    resource: str
    status: str
    message: str


class EventsOut(Schema):
    events: list[EventOut]
    after: int = Field(description="Pass this as ?after= to get the next events.")
    active: bool = Field(description="False once the rollout has finished: stop polling.")


class EventsQuery(Schema):
    after: int = Field(0, ge=0, le=2**63 - 1,
                       description="The `after` of the previous answer (event id).")


def _actor(request) -> Actor:
    return Actor(request.user, "api", client_ip(request))


def _deployment_out(d: Deployment) -> dict:
    return {
        "id": d.pk, "step": d.step, "region": d.region.code, "action": d.action,
        "replicas": d.replicas or [], "depends_on": [p.pk for p in d.depends_on.all()],
        "stack_name": d.stack_name, "change_set_id": d.change_set_id,
        "change_set_name": d.change_set_name,
        "change_set_url": change_set_url(d.region.code, d.stack_name, d.change_set_id),
        "status": d.status,
        "explanation": d.explanation, "changes": d.changes or [],
        "resources_total": d.resources_total, "resources_done": d.resources_done,
        "progress": d.progress, "outputs": d.outputs or {}, "started_at": d.started_at,
        "finished_at": d.finished_at, "elapsed": d.elapsed,
    }


def _rollout_out(pk: int) -> dict:
    r = get_object_or_404(
        Rollout.objects.select_related("application", "requested_by", "confirmed_by",
                                       "approved_by"), pk=pk)
    deployments = r.deployments.select_related("region").prefetch_related("depends_on")
    return {
        "id": r.pk, "application": r.application.slug, "kind": r.kind, "status": r.status,
        "gate": r.gate, "explanation": r.explanation, "release_label": r.release_label,
        "only_region": r.only_region, "needs_confirmation": r.needs_confirmation,
        "require_approval": r.require_approval, "rollback_of": r.rollback_of_id,
        "requested_by": r.requested_by.get_username() if r.requested_by else None,
        "requested_via": r.requested_via,
        "confirmed_by": r.confirmed_by.get_username() if r.confirmed_by else None,
        "approved_by": r.approved_by.get_username() if r.approved_by else None,
        "approved_at": r.approved_at,
        "created_at": r.created_at, "started_at": r.started_at, "finished_at": r.finished_at,
        "elapsed": r.elapsed, "url": r.get_absolute_url(),
        "deployments": [_deployment_out(d) for d in deployments.order_by("step")],
    }


def _conflict(exc: rollouts.Conflict):
    return Status(409, {"errors": {"__all__": [str(exc)]}, "active_rollout": exc.active_rollout_id})


def _not_allowed(exc: rollouts.NotAllowed):
    return Status(409, {"errors": {"__all__": [str(exc)]}, "active_rollout": None})


def _start(request, slug: str, start):
    application = get_object_or_404(Application, slug=slug)
    try:
        rollout = start(application, request.user, _actor(request))
    except rollouts.Conflict as exc:
        return _conflict(exc)
    except rollouts.Refused as exc:
        return Status(400, {"errors": {"__all__": [str(exc)]}})
    return Status(201, _rollout_out(rollout.pk))


# The body is optional, so ninja does not read it; it is documented here.
OPTIONAL_BODY = {"requestBody": {"required": False, "content": {
    "application/json": {"schema": DeployIn.model_json_schema()}}}}


@router.post("/applications/{slug}/plans", response={201: RolloutOut, **ERRORS},
             auth=api_auth(OPERATOR), openapi_extra=OPTIONAL_BODY)
def plan_create(request, slug: str):
    """Synthesize and create a change set in every region (or the one `region`); nothing is
    executed. The label and approval choice apply when the plan is applied."""
    body = _deploy_in(request)
    return _start(request, slug, lambda application, user, actor: rollouts.start_plan(
        application, user, actor, body.region, **_choices(body)))


@router.post("/applications/{slug}/deploy", response={201: RolloutOut, **ERRORS},
             auth=api_auth(OPERATOR), openapi_extra=OPTIONAL_BODY)
def deploy_create(request, slug: str):
    """Plan and apply at once; stateful replacements or removals wait for confirmation.
    The body is optional: `{"region": "eu-west-1", "label": "v42", "require_approval": true}`;
    an unknown region, or one being added or removed, answers 400 with the reason."""
    body = _deploy_in(request)
    return _start(request, slug, lambda application, user, actor: rollouts.start_deploy(
        application, user, actor, body.region, **_choices(body)))


def _deploy_in(request) -> DeployIn:
    """The optional body of a plan or deploy: none at all (or a form post) means every region,
    no label and the application's approval default."""
    if request.content_type != "application/json" or not request.body.strip():
        return DeployIn()
    try:
        data = json.loads(request.body)
    except ValueError as exc:
        raise HttpError(400, "The body is not valid JSON.") from exc
    try:
        return DeployIn.model_validate(data)
    except PydanticError as exc:
        raise NinjaValidationError(
            [{**e, "loc": ("body", "body", *e["loc"])} for e in exc.errors()]) from None


def _choices(body: DeployIn) -> dict:
    return {"label": body.label, "require_approval": body.require_approval}


@router.post("/applications/{slug}/regions/{code}/bootstrap",
             response={201: RolloutOut, **ERRORS}, auth=api_auth(OPERATOR))
def region_bootstrap(request, slug: str, code: str):
    """Deploy the CDK bootstrap stack (CDKToolkit) to the region, at once (a rollout of kind
    bootstrap); 409 while another rollout of the application is active."""
    region = get_object_or_404(Region, application__slug=slug, code=code)
    return _start(request, slug, lambda application, user, actor: rollouts.start_bootstrap(
        application, user, actor, region=region.code))


def _act(request, pk: int, action):
    rollout = get_object_or_404(Rollout.objects.select_related("application"), pk=pk)
    try:
        action(rollout, request.user, _actor(request))
    except rollouts.Conflict as exc:
        return _conflict(exc)
    except rollouts.NotAllowed as exc:
        return _not_allowed(exc)
    return Status(200, _rollout_out(pk))


@router.post("/plans/{pk}/apply", response={200: RolloutOut, **ERRORS}, auth=api_auth(OPERATOR))
def plan_apply(request, pk: int):
    """Execute the reviewed change sets: the main region first, then the others."""
    return _act(request, pk, rollouts.apply)


@router.post("/rollouts/{pk}/confirm", response={200: RolloutOut, **ERRORS},
             auth=api_auth(OPERATOR))
def rollout_confirm(request, pk: int):
    """Confirm a plan's stateful replacements or removals and apply it."""
    return _act(request, pk, rollouts.confirm)


@router.post("/rollouts/{pk}/approve", response={200: RolloutOut, **ERRORS},
             auth=api_auth(OPERATOR))
def rollout_approve(request, pk: int):
    """Let a rollout waiting for approval after the main region (`gate` "approval") deploy
    the other regions; 409 when there is nothing to approve."""
    return _act(request, pk, rollouts.approve)


@router.post("/rollouts/{pk}/rollback", response={201: RolloutOut, **ERRORS},
             auth=api_auth(OPERATOR))
def rollout_rollback(request, pk: int):
    """Roll back to this succeeded deploy: a new plan (kind plan, `rollback_of` set) that
    applies its templates again; review and apply it like any plan. 400 says why it cannot."""
    earlier = get_object_or_404(Rollout.objects.select_related("application"), pk=pk)
    try:
        rollout = rollouts.start_rollback(earlier, request.user, _actor(request))
    except rollouts.Conflict as exc:
        return _conflict(exc)
    except rollouts.NotAllowed as exc:
        return Status(400, {"errors": {"__all__": [str(exc)]}})
    return Status(201, _rollout_out(rollout.pk))


@router.post("/rollouts/{pk}/cancel", response={200: RolloutOut, **ERRORS},
             auth=api_auth(OPERATOR))
def rollout_cancel(request, pk: int):
    return _act(request, pk, rollouts.cancel)


@router.get("/rollouts/{pk}", response={200: RolloutOut, **ERRORS}, auth=api_auth(VIEWER))
def rollout_detail(request, pk: int):
    """Status, every deployment with its reviewed changes, progress and outputs."""
    return _rollout_out(pk)


@router.get("/rollouts/{pk}/events", response={200: EventsOut, **ERRORS},
            auth=api_auth(VIEWER))
def rollout_events(request, pk: int, query: Query[EventsQuery]):
    """The log of every deployment of the rollout, oldest first, after a cursor."""
    rollout = get_object_or_404(Rollout, pk=pk)
    events = list(
        DeploymentEvent.objects.filter(deployment__rollout=rollout, pk__gt=query.after)
        .select_related("deployment__region").order_by("pk")[:MAX_EVENTS]
    )
    return {
        "events": [
            {"id": e.pk, "deployment": e.deployment_id, "region": e.deployment.region.code,
             "seq": e.seq, "created_at": e.created_at, "source": e.source, "level": e.level,
             "resource": e.resource, "status": e.status, "message": e.message}
            for e in events
        ],
        "after": events[-1].pk if events else query.after,
        "active": rollout.is_active or len(events) == MAX_EVENTS,
    }
