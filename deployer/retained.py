"""Roll back: the cloud assemblies of an application's last ROLLBACK_KEEP succeeded deploys are
kept out of the synth cache's reach, so a later rollout can apply one of them again (its
templates and assets, as they were) through the same review as any plan.

Kept assemblies live in SYNTH_CACHE_DIR/kept/<rollout id>/<synth key>; the cache's pruning
only touches its own entries. A roll back puts the assembly back in the cache under its key,
and the steps then publish and create their change sets from it as any plan's do."""

import os
import shutil
from pathlib import Path

from django.conf import settings

from . import planning
from .models import Action, Deployment, Rollout, RolloutKind, Status

KEPT = "kept"


class RollbackError(Exception):
    """The rollout cannot be rolled back to, in words."""


def _kept_dir() -> Path:
    return Path(settings.SYNTH_CACHE_DIR) / KEPT


def _copy(source: Path, target: Path) -> None:
    """Copy a folder, hard-linking files where the file system allows."""
    def link(src, dst):
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(source, tmp, copy_function=link, symlinks=True)
    os.replace(tmp, target)


def keep(rollout: Rollout) -> list[str]:
    """Keep a succeeded deploy's assemblies; prune the application's older kept ones. Returns
    the keys kept."""
    keys = sorted(set(rollout.deployments.exclude(synth_key="").values_list("synth_key",
                                                                             flat=True)))
    cache = Path(settings.SYNTH_CACHE_DIR)
    kept = []
    for key in keys:
        target = _kept_dir() / str(rollout.pk) / key
        if (cache / key).is_dir() and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            _copy(cache / key, target)
        if target.exists():
            kept.append(key)
    prune(rollout.application)
    return kept


def recent(application) -> list[int]:
    """The ids of the application's succeeded deploys whose assemblies are kept."""
    return list(application.rollouts.filter(
        status=Status.SUCCEEDED, kind=RolloutKind.DEPLOY).exclude(deployments=None).order_by(
        "-finished_at", "-pk").values_list("pk", flat=True)[:settings.ROLLBACK_KEEP])


def prune(application) -> None:
    wanted = {str(pk) for pk in recent(application)}
    mine = {str(pk) for pk in application.rollouts.values_list("pk", flat=True)}
    root = _kept_dir()
    if not root.is_dir():
        return
    for folder in root.iterdir():
        if folder.name in mine and folder.name not in wanted:
            shutil.rmtree(folder, ignore_errors=True)


def refusal(earlier: Rollout) -> str:
    """Why the application cannot roll back to `earlier`; empty when it can."""
    if earlier.status != Status.SUCCEEDED or earlier.kind != RolloutKind.DEPLOY:
        return (f"Rollout {earlier.pk} is {earlier.status_label.lower()}: only a deploy that "
                "succeeded can be rolled back to.")
    if earlier.pk not in recent(earlier.application):
        return (f"Rollout {earlier.pk} is older than the last {settings.ROLLBACK_KEEP} "
                "succeeded deploys, whose templates are kept: deploy its release again instead.")
    states = dict(earlier.application.regions.values_list("code", "state"))
    changing = sorted(c for c, s in states.items() if s in planning.CHANGING_STATES)
    if changing:
        return (f"Regions are being added or removed ({', '.join(changing)}): deploy the "
                "application first, then roll back.")
    return ""


def reuse(rollout: Rollout, deployments: list[Deployment]) -> None:
    """Give each step of a roll back the template (and assembly) its region had in the earlier
    rollout; RollbackError when one is missing."""
    earlier = rollout.rollback_of
    if earlier is None:
        raise RollbackError("The rollout it rolls back to has been deleted.")
    source: dict[str, Deployment] = {}
    for d in earlier.deployments.exclude(action=Action.DESTROY_REGION).order_by("step"):
        source[d.region.code] = d  # the last step of a region has its final template
    cache = Path(settings.SYNTH_CACHE_DIR)
    for d in deployments:
        if d.action == Action.DESTROY_REGION or d.region.code not in source:
            raise RollbackError(
                f"{d.region.code} was not deployed by rollout {earlier.pk}: a roll back can "
                "only apply again what that rollout deployed.")
        src = source[d.region.code]
        if src.synth_key and not (cache / src.synth_key).is_dir():
            kept = _kept_dir() / str(earlier.pk) / src.synth_key
            if not kept.is_dir():
                raise RollbackError(
                    f"The cloud assembly of rollout {earlier.pk} is no longer kept on this "
                    "worker: deploy its release again instead.")
            _copy(kept, cache / src.synth_key)
        d.template, d.synth_key, d.needs = src.template, src.synth_key, src.needs
        d.stack_name = src.stack_name
        d.log(f"Rolling back to rollout {earlier.pk}: the template {d.region.code} had then"
              + (f" (release {earlier.release_label})." if earlier.release_label else "."))
        d.save(update_fields=["template", "synth_key", "needs", "stack_name"])
