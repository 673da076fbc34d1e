"""A plan's steps: one Deployment per step of deployer.planning, and their templates from
one synth of every step (or from the source DEPLOYER_TEMPLATES names, for tests)."""

import importlib

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import planning
from .cloudformation import EngineError
from .models import Action, Deployment, EventSource, Level, Rollout, Status
from .synth.templates import SYNTH_COST, synth_requests, synth_templates


def template_source():
    """DEPLOYER_TEMPLATES names another source, e.g. for tests."""
    path = settings.DEPLOYER_TEMPLATES
    if not path:
        return synth_templates
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


@transaction.atomic
def create_deployments(rollout: Rollout, specs: list[planning.StepSpec], regions: dict) -> list:
    deployments: list[Deployment] = []
    first_per_stack: set[str] = set()
    for index, spec in enumerate(specs):
        region = regions[spec.region]
        stack_name = region.stack_name or region.default_stack_name()
        # Later steps on a stack get their change set when their turn comes: one created now
        # would be made obsolete by the earlier step's execution.
        deferred = stack_name in first_per_stack
        first_per_stack.add(stack_name)
        d = Deployment.objects.create(
            rollout=rollout, region=region, step=index, action=spec.action,
            replicas=list(spec.replicas), stack_name=stack_name,
            status=Status.PLANNED if deferred else Status.QUEUED,
            explanation="The change set is created when this step's turn comes." if deferred
            else "",
        )
        d.depends_on.set([deployments[i] for i in spec.depends_on])
        deployments.append(d)
    return deployments


def synthesize(rollout: Rollout, deployments: list[Deployment]) -> None:
    """One synth for every replica step (one app start when the app allows); templates stored
    per deployment and the synth's cost in the first step's log."""
    source = template_source()
    first = deployments[0]
    application = rollout.application
    groups: dict[tuple, list[Deployment]] = {}
    for d in deployments:
        if d.action == Action.DESTROY_REGION:
            continue
        key = tuple(d.replicas) if d.action == Action.UPDATE_MAIN else ("final",)
        groups.setdefault(key, []).append(d)
    final = max((tuple(d.replicas) for d in deployments if d.action != Action.DESTROY_REGION),
                key=len, default=())
    # The regional stacks are synthesized with the main region the app contract expects.
    requests = [
        (sorted({d.region.code for d in members} | {application.main_region}),
         list(final if group == ("final",) else group))
        for group, members in groups.items()
    ]

    def on_line(stream, line):
        first.log(line, source=EventSource.SYNTH,
                  level=Level.WARNING if stream == "stderr" else Level.INFO)

    for wanted, replicas in requests:
        first.log(f"Synth for {', '.join(wanted)} with replicas {', '.join(replicas) or 'none'}.",
                  source=EventSource.SYNTH)
    Rollout.objects.filter(pk=rollout.pk).update(heartbeat_at=timezone.now())
    results, cost = synth_requests(source, application, requests, on_line,
                                   release=rollout.release_label)
    if cost:
        first.log(cost, source=EventSource.SYNTH, status=SYNTH_COST)
    keys = []
    for members, result in zip(groups.values(), results, strict=True):
        keys.append(result.key)
        for d in members:
            if d.region.code not in result.stacks:
                raise EngineError(f"The synth produced no stack for {d.region.code}.")
            stack_name, template = result.stacks[d.region.code]
            d.template = template
            d.stack_name = stack_name or d.stack_name
            # The step finds its assembly (and assets) in the synth cache by this key.
            d.synth_key = result.key if result.assembly else ""
            d.needs = result.needs.get(d.region.code, {})
            d.save(update_fields=["template", "stack_name", "synth_key", "needs"])
    rollout.synth_key = ",".join(keys)[:128]
    rollout.save(update_fields=["synth_key"])
