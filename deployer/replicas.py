"""The order in which a rollout changes the global table's replicas and the regional stacks.

DynamoDB accepts one replica added or removed per update of a global table, so a change of
several regions becomes a sequence of steps:

- adding: the main stack adds replica A, then region A deploys; then main adds B, B deploys…
- removing: the regional stack goes first (its DNS record and health check), then the main
  stack drops the replica.

`current` and `desired` are *all* regions of the application, the main region included
(as the inventory lists them). An empty `desired` means taking the whole application down,
which is the only way the main region may go. Regions are handled in sorted order, removals
before additions, so the same change always gives the same steps.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

UPDATE_MAIN = "update_main"
DEPLOY_REGION = "deploy_region"
DESTROY_REGION = "destroy_region"

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")


class ReplicaStepError(ValueError):
    """The requested change of regions cannot be carried out safely."""


@dataclass(frozen=True)
class Step:
    action: str  # "update_main" | "deploy_region" | "destroy_region"
    region: str  # the region the step deploys (the main region for update_main)
    replicas: tuple[str, ...]  # the global table's replicas after this step (excluding main)

    def __str__(self) -> str:
        replicas = ", ".join(self.replicas) or "none"
        if self.action == UPDATE_MAIN:
            return f"update main region {self.region} (replicas: {replicas})"
        verb = "deploy" if self.action == DEPLOY_REGION else "destroy"
        return f"{verb} region {self.region}"


def _region_set(name: str, regions: Iterable[str]) -> set[str]:
    if isinstance(regions, str):
        raise ReplicaStepError(f"The {name} regions must be a list of region codes, not a string.")
    found = set(regions)
    bad = sorted(repr(r) for r in found if not isinstance(r, str) or not _REGION.match(r))
    if bad:
        raise ReplicaStepError(f"The {name} regions include invalid region codes: {', '.join(bad)}.")
    return found


def replica_steps(main: str, current: Iterable[str], desired: Iterable[str]) -> list[Step]:
    """Steps that take the application from the `current` regions to the `desired` ones."""
    if not isinstance(main, str) or not _REGION.match(main):
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
        steps.append(Step(UPDATE_MAIN, main, ()))
    for region in sorted(now - wanted - {main}):
        steps.append(Step(DESTROY_REGION, region, tuple(replicas)))
        replicas.remove(region)
        steps.append(Step(UPDATE_MAIN, main, tuple(replicas)))
    for region in sorted(wanted - now - {main}):
        replicas = sorted([*replicas, region])
        steps.append(Step(UPDATE_MAIN, main, tuple(replicas)))
        steps.append(Step(DEPLOY_REGION, region, tuple(replicas)))
    if main in now and not wanted:
        steps.append(Step(DESTROY_REGION, main, ()))
    return steps
