"""Pure planning: the steps a rollout takes and the order they run in. Nothing here reads the
database or calls AWS; rollouts gathers the inventory and passes it in as plain data.

Replica steps. DynamoDB accepts one replica added or removed per update of a global table, so
a change of several regions becomes a sequence of steps:

- adding: the main stack adds replica A, then region A deploys; then main adds B, B deploys…
- removing: the regional stack goes first (its DNS record and health check), then the main
  stack drops the replica.

`current` and `desired` are *all* regions of the application, the main region included
(as the inventory lists them). An empty `desired` means taking the whole application down,
which is the only way the main region may go. Regions are handled in sorted order, removals
before additions, so the same change always gives the same steps.

Step order. A rollout is a graph of steps (`depends_on`). The main region goes first, alone;
the other regions depend only on it and run in parallel. Replica steps form a chain in which
each step depends on the one before.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from regions.models import RegionState
from regions.validators import validate_region_code

from .models import Action

# Regions whose stack exists (or may exist) and regions the operator wants in service.
DEPLOYED_STATES = (RegionState.PROVISIONING, RegionState.ACTIVE, RegionState.REMOVING,
                   RegionState.FAILED)
WANTED_STATES = (RegionState.PLANNED, RegionState.PROVISIONING, RegionState.ACTIVE,
                 RegionState.FAILED)
# While a region is in one of these, the rollout adds or removes regions.
CHANGING_STATES = (RegionState.PLANNED, RegionState.REMOVING)


class ReplicaStepError(ValueError):
    """The requested change of regions cannot be carried out safely."""


@dataclass(frozen=True)
class Step:
    action: str  # an Action: update_main, deploy_region or destroy_region
    region: str  # the region the step deploys (the main region for update_main)
    replicas: tuple[str, ...]  # the global table's replicas after this step (excluding main)

    def __str__(self) -> str:
        replicas = ", ".join(self.replicas) or "none"
        if self.action == Action.UPDATE_MAIN:
            return f"update main region {self.region} (replicas: {replicas})"
        verb = "deploy" if self.action == Action.DEPLOY_REGION else "destroy"
        return f"{verb} region {self.region}"


def _is_region(code) -> bool:
    try:
        validate_region_code(code)
    except ValidationError:
        return False
    return True


def _region_set(name: str, regions: Iterable[str]) -> set[str]:
    if isinstance(regions, str):
        raise ReplicaStepError(f"The {name} regions must be a list of region codes, not a string.")
    found = set(regions)
    bad = sorted(repr(r) for r in found if not _is_region(r))
    if bad:
        raise ReplicaStepError(f"The {name} regions include invalid region codes: {', '.join(bad)}.")
    return found


def replica_steps(main: str, current: Iterable[str], desired: Iterable[str]) -> list[Step]:
    """Steps that take the application from the `current` regions to the `desired` ones."""
    if not _is_region(main):
        raise ReplicaStepError(f"The main region {main!r} is not a region code such as us-east-1.")
    now = _region_set("current", current)
    wanted = _region_set("desired", desired)
    if now and main not in now:
        raise ReplicaStepError(
            f"The current regions ({', '.join(sorted(now))}) do not include the main region "
            f"{main}: replicas cannot exist without the table that the main region owns."
        )
    if wanted and main not in wanted:
        if main in now:
            raise ReplicaStepError(
                f"The main region {main} cannot be removed while other regions remain "
                f"({', '.join(sorted(wanted))}): it owns the global table. Remove the other "
                "regions first."
            )
        raise ReplicaStepError(
            f"The desired regions ({', '.join(sorted(wanted))}) do not include the main region "
            f"{main}, which owns the global table."
        )

    replicas = sorted(now - {main})
    steps: list[Step] = []
    if wanted and main not in now:
        # The main stack creates the table before any replica can be added to it.
        steps.append(Step(Action.UPDATE_MAIN, main, ()))
    for region in sorted(now - wanted - {main}):
        steps.append(Step(Action.DESTROY_REGION, region, tuple(replicas)))
        replicas.remove(region)
        steps.append(Step(Action.UPDATE_MAIN, main, tuple(replicas)))
    for region in sorted(wanted - now - {main}):
        replicas = sorted([*replicas, region])
        steps.append(Step(Action.UPDATE_MAIN, main, tuple(replicas)))
        steps.append(Step(Action.DEPLOY_REGION, region, tuple(replicas)))
    if main in now and not wanted:
        steps.append(Step(Action.DESTROY_REGION, main, ()))
    return steps


@dataclass(frozen=True)
class StepSpec:
    action: str
    region: str
    replicas: tuple[str, ...]
    depends_on: tuple[int, ...]  # positions of earlier steps in the same plan


def plan_steps(main: str, states: Mapping[str, str], only_region: str = "") -> list[StepSpec]:
    """The steps a rollout takes the application through, with their dependencies.

    `states` maps every region code of the application to its inventory state. With
    `only_region`, that region's steps alone, allowed only while no region is added or removed.
    """
    current = {code for code, state in states.items() if state in DEPLOYED_STATES}
    desired = {code for code, state in states.items() if state in WANTED_STATES}
    if current and not desired:
        raise ReplicaStepError(
            "Refusing to remove the last region in service: every region is being removed.")
    specs: list[StepSpec] = []
    for step in replica_steps(main, current, desired):
        after = (len(specs) - 1,) if specs else ()
        specs.append(StepSpec(step.action, step.region, step.replicas, after))
    touched = {s.region for s in specs}
    steady = sorted(desired - touched - {main})
    final_replicas = tuple(sorted(desired - {main}))
    if main in desired and not any(s.action == Action.UPDATE_MAIN for s in specs):
        specs = [StepSpec(Action.UPDATE_MAIN, main, final_replicas, ())] + [
            StepSpec(s.action, s.region, s.replicas, tuple(i + 1 for i in s.depends_on) or (0,))
            for s in specs
        ]
    last_main = max((i for i, s in enumerate(specs) if s.action == Action.UPDATE_MAIN),
                    default=None)
    for code in steady:
        after = (last_main,) if last_main is not None else ()
        specs.append(StepSpec(Action.DEPLOY_REGION, code, final_replicas, after))
    if only_region:
        return _only(specs, only_region, states)
    return specs


def only_region_refusal(code: str, main: str, states: Mapping[str, str]) -> str:
    """Why one region alone cannot be deployed now, in words; empty when it can."""
    state = states.get(code)
    if state is None:
        known = ", ".join(sorted(states)) or "none"
        return f"{code} is not a region of this application (its regions: {known})."
    if state == RegionState.REMOVING:
        return (f"{code} is being removed: deploy the whole application, which takes its stack "
                "down before the global table drops its replica.")
    if state == RegionState.REMOVED:
        return f"{code} has been removed from this application; add it again to deploy it."
    if state == RegionState.PLANNED:
        return (f"{code} has not been deployed yet: deploy the whole application, which adds "
                "its replica to the global table first.")
    changing = sorted(c for c, s in states.items() if s in CHANGING_STATES)
    if changing:
        return (f"Regions are being added or removed ({', '.join(changing)}): deploy the whole "
                "application, not one region.")
    if main not in states:
        return f"The main region {main} is not in the inventory."
    return ""


def _only(specs: list[StepSpec], code: str, states: Mapping[str, str]) -> list[StepSpec]:
    if any(state in CHANGING_STATES for state in states.values()):
        raise ReplicaStepError(
            "Regions are being added or removed: deploy the whole application, not one region.")
    kept = [s for s in specs if s.region == code]
    if not kept:
        raise ReplicaStepError(f"{code} is not a region of this application.")
    return [StepSpec(s.action, s.region, s.replicas, ()) for s in kept]
