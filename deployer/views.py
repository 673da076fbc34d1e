"""Rollout pages: the rollout with every region side by side, live logs, and the buttons."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, Prefetch, When, prefetch_related_objects
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts import roles
from accounts.audit import Actor
from accounts.roles import OPERATOR, VIEWER, role_required
from regions.models import Application, Region

from . import rollouts
from .models import ACTIVE, Action, Deployment, DeploymentEvent, Rollout, RolloutKind, Status

EVENTS_PER_FRAGMENT = 500


def _get_rollout(pk: int) -> Rollout:
    return get_object_or_404(Rollout.objects.select_related(
        "application", "requested_by", "confirmed_by", "approved_by"), pk=pk)


def _polling(rollout: Rollout) -> bool:
    return rollout.status in ACTIVE


def _rollout_context(request, rollout: Rollout) -> dict:
    # Bootstrap steps come first: a plan in the sandbox runs them before the region's own.
    deployments = list(rollout.deployments.select_related("region").order_by(
        Case(When(action=Action.BOOTSTRAP, then=0), default=1), "step"))
    return {
        "rollout": rollout,
        "deployments": deployments,
        "polling": _polling(rollout),
        # Steps and their change sets appear while planning: the cards refresh until then.
        "planning": _polling(rollout) and (rollout.applied_at is None or not deployments),
        "can_operate": roles.can_operate(request.user),
        # A rollout that failed offers a roll back to the last deploy that succeeded before it.
        "previous_good": rollout.application.rollouts.filter(
            status=Status.SUCCEEDED, kind=RolloutKind.DEPLOY, created_at__lt=rollout.created_at,
        ).first() if rollout.status in (Status.FAILED, Status.ERROR) else None,
    }


@require_GET
@role_required(VIEWER)
def rollout_detail(request, pk: int):
    rollout = _get_rollout(pk)
    context = _rollout_context(request, rollout)
    # One query for every region's first page of log, however many regions.
    prefetch_related_objects(context["deployments"], Prefetch(
        "events", queryset=DeploymentEvent.objects.order_by("seq")[:EVENTS_PER_FRAGMENT],
        to_attr="lines"))
    for d in context["deployments"]:
        d.last_seq = d.lines[-1].seq if d.lines else 0
        # A long log keeps paging even when the deployment is over (as deployment_events does).
        d.tailing = len(d.lines) == EVENTS_PER_FRAGMENT or (
            context["polling"] and not d.is_finished)
    return render(request, "deployer/rollout_detail.html", context)


@require_GET
@role_required(VIEWER)
def rollout_status(request, pk: int):
    """The header of the rollout page; it asks to be refreshed only while the rollout runs."""
    rollout = _get_rollout(pk)
    return render(request, "deployer/_rollout_status.html", _rollout_context(request, rollout))


@require_GET
@role_required(VIEWER)
def deployment_events(request, pk: int):
    """Log lines after ?after=SEQ, then a sentinel that asks for the next ones while active."""
    deployment = get_object_or_404(Deployment.objects.select_related("rollout"), pk=pk)
    try:
        after = max(0, int(request.GET.get("after", "0")))
    except ValueError:
        after = 0
    lines = list(deployment.events.filter(seq__gt=after).order_by("seq")[:EVENTS_PER_FRAGMENT])
    last_seq = lines[-1].seq if lines else after
    tailing = len(lines) == EVENTS_PER_FRAGMENT or (
        _polling(deployment.rollout) and not deployment.is_finished)
    return render(request, "deployer/_events.html", {
        "deployment": deployment, "lines": lines, "last_seq": last_seq, "tailing": tailing,
    })


@require_GET
@role_required(VIEWER)
def rollout_list(request, slug: str):
    application = get_object_or_404(Application, slug=slug)
    page = Paginator(application.rollouts.select_related("requested_by"), 50).get_page(
        request.GET.get("page"))
    return render(request, "deployer/rollout_list.html", {
        "application": application, "page": page,
        "can_operate": roles.can_operate(request.user),
    })


def _start(request, slug: str, start, back=None):
    application = get_object_or_404(Application, slug=slug)
    try:
        rollout = start(application, request.user, Actor.from_request(request))
    except rollouts.Conflict as exc:
        messages.warning(request, f"{exc} Showing the active rollout.")
        if exc.active_rollout_id:
            return redirect("deployer:rollout_detail", exc.active_rollout_id)
        return redirect("deployer:rollout_list", slug)
    except rollouts.NotAllowed as exc:
        messages.error(request, str(exc))
        return redirect(back or application)
    return redirect(rollout)


def _choices(request, application) -> dict:
    """The deploy form's options: a release label and the approval gate."""
    choices = {"label": request.POST.get("label", "")}
    if "approval" in request.POST:
        choices["require_approval"] = request.POST["approval"] == "on"
    return choices


@require_POST
@role_required(OPERATOR)
def application_plan(request, slug: str):
    return _start(request, slug, rollouts.start_plan)


@require_POST
@role_required(OPERATOR)
def application_deploy(request, slug: str):
    """Deploy from the web: review first. The plan waiting for review, or a new one."""
    def review(application, user, actor):
        rollout, new = rollouts.start_review(application, user, actor,
                                             **_choices(request, application))
        messages.info(request, "Planning: every region's change set appears here; review them, "
                               "then Apply." if new else
                      f"Rollout {rollout.pk} is a plan waiting for review: apply it, or plan "
                      "again.")
        return rollout

    return _start(request, slug, review)


@require_POST
@role_required(OPERATOR)
def region_deploy(request, slug: str, code: str):
    """Deploy one region: its plan to review, then Apply, as Deploy does for all."""
    region = get_object_or_404(Region, application__slug=slug, code=code)

    def review(application, user, actor):
        rollout, new = rollouts.start_review(application, user, actor, region.code,
                                             **_choices(request, application))
        messages.info(request, f"Planning {region.code} alone: review its change set, then "
                               "Apply." if new else
                      f"Rollout {rollout.pk} is a plan of {region.code} waiting for review: "
                      "apply it, or plan again.")
        return rollout

    return _start(request, slug, review, back=region.get_absolute_url())


@require_POST
@role_required(OPERATOR)
def region_bootstrap(request, slug: str, code: str):
    """Bootstrap one region: the CDK toolkit's stack, deployed at once, its log live."""
    region = get_object_or_404(Region, application__slug=slug, code=code)

    def start(application, user, actor):
        rollout = rollouts.start_bootstrap(application, user, actor, region=region.code)
        messages.info(request, f"Bootstrapping {region.code}: the CDK toolkit's stack is "
                               "deployed through a change set.")
        return rollout

    return _start(request, slug, start)


def _act(request, pk: int, action, done: str):
    rollout = _get_rollout(pk)
    try:
        action(rollout, request.user, Actor.from_request(request))
    except rollouts.Conflict as exc:
        messages.warning(request, str(exc))
        if exc.active_rollout_id:
            return redirect("deployer:rollout_detail", exc.active_rollout_id)
    except rollouts.NotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect(rollout)


@require_POST
@role_required(OPERATOR)
def rollout_apply(request, pk: int):
    return _act(request, pk, rollouts.apply, "Applying the reviewed change sets.")


@require_POST
@role_required(OPERATOR)
def rollout_confirm(request, pk: int):
    return _act(request, pk, rollouts.confirm, "Confirmed; applying the change sets.")


@require_POST
@role_required(OPERATOR)
def rollout_cancel(request, pk: int):
    return _act(request, pk, rollouts.cancel, "Cancel requested.")


@require_POST
@role_required(OPERATOR)
def rollout_approve(request, pk: int):
    return _act(request, pk, rollouts.approve, "Approved; the other regions deploy now.")


@require_POST
@role_required(OPERATOR)
def rollout_rollback(request, pk: int):
    """Roll back to this rollout: a new plan of its templates, reviewed before it is applied."""
    earlier = _get_rollout(pk)
    try:
        rollout = rollouts.start_rollback(earlier, request.user, Actor.from_request(request))
    except rollouts.Conflict as exc:
        messages.warning(request, str(exc))
        return redirect("deployer:rollout_detail", exc.active_rollout_id or pk)
    except rollouts.NotAllowed as exc:
        messages.error(request, str(exc))
        return redirect(earlier)
    messages.info(request, f"Planning a roll back to rollout {earlier.pk}: review the change "
                           "sets, then Apply.")
    return redirect(rollout)
