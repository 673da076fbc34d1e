"""synth_application: run the app once for every region (or once per region for an app that
reads only AWS_REGION), or answer from the cache when nothing that shapes the templates
changed."""

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from .assembly import Stack, StackArtifact, check_complete, merge, read_artifact, stacks_by_region
from .cache import (
    ASSEMBLY,
    CACHE_ENTRY,
    cache_key,
    new_job,
    prune,
    publish,
    read_entry,
    write_result,
)
from .errors import SynthError
from .inputs import App, app_env, app_inputs, resolve_app
from .process import Run, run_all


@dataclass(frozen=True)
class SynthResult:
    key: str
    outdir: Path
    stacks: dict[str, StackArtifact]
    lines: list[tuple[str, str]]
    cached: bool
    elapsed: float


def synth_application(
    application,
    *,
    regions: list[str] | None = None,
    replica_regions: list[str] | None = None,
    release: str | None = None,
    on_line: Callable[[str, str], None] | None = None,
    timeout: float | None = None,
    use_cache: bool = True,
) -> SynthResult:
    """Synthesize the application's stacks for every region, or return the cached assembly."""
    started = time.monotonic()
    inputs = app_inputs(application, regions, replica_regions, release)
    app = resolve_app(application)
    key = cache_key(application, inputs, app)
    cache_dir = Path(settings.SYNTH_CACHE_DIR)
    entry = cache_dir / key
    outdir = entry / ASSEMBLY
    if use_cache:
        hit = read_entry(entry)
        if hit is not None:
            stacks, lines = hit
            return SynthResult(key, outdir, stacks, lines, True, time.monotonic() - started)

    timeout = float(settings.SYNTH_TIMEOUT if timeout is None else timeout)
    job = new_job(cache_dir)
    lines: list[tuple[str, str]] = []
    try:
        stacks = _synth(application.slug, app, inputs, job, started + timeout, timeout,
                        on_line, lines)
        write_result(job, key, inputs, lines, stacks)
        shutil.rmtree(job / "regions", ignore_errors=True)
        publish(job, entry, keep_existing=use_cache)
    except BaseException:
        shutil.rmtree(job, ignore_errors=True)
        raise
    prune(cache_dir, keep=settings.SYNTH_CACHE_KEEP,
          stale_after=max(timeout, float(settings.SYNTH_TIMEOUT)))
    # Read from where the assembly now lives, so every path points into the cache entry.
    stored = read_entry(entry)
    if stored is None:
        raise SynthError("internal", f"The synth result stored in {entry} cannot be read back.")
    return SynthResult(key, outdir, stored[0], lines, False, time.monotonic() - started)


def cached_stack(key: str, region: str) -> tuple[Path, StackArtifact] | None:
    """The cloud assembly of a synth still in the cache and its stack for `region`."""
    if not CACHE_ENTRY.match(key):
        return None  # never a path outside the cache: a damaged entry is deleted when read
    entry = Path(settings.SYNTH_CACHE_DIR) / key
    hit = read_entry(entry)
    if hit is None or region not in hit[0]:
        return None
    return entry / ASSEMBLY, hit[0][region]


def _synth(slug, app: App, inputs: dict, job: Path, deadline: float, timeout: float,
           on_line, lines) -> dict[str, Stack]:
    """Run the app and return each region's stack, every one checked by reading it."""
    requested = inputs["regions"].split(",")
    assembly = job / ASSEMBLY
    first = requested[0]
    options = dict(slug=slug, deadline=deadline, timeout=timeout, on_line=on_line, lines=lines)
    run_all([Run(first, app.argv, app.cwd, app_env(inputs, first, assembly), assembly,
                 isolated=app.isolated)],
            parallel=1, prefix=False, **options)
    found = stacks_by_region(assembly, requested, first)
    rest = [region for region in requested if region not in found]
    if rest and set(found) & set(requested) == {first}:
        # An app that reads only AWS_REGION: one more run for each remaining region.
        runs = [
            Run(region, app.argv, app.cwd, app_env(inputs, region, job / "regions" / region),
                job / "regions" / region, isolated=app.isolated)
            for region in rest
        ]
        run_all(runs, parallel=max(1, settings.SYNTH_PARALLEL), prefix=True, **options)
        for run in runs:
            if run.label in stacks_by_region(run.outdir, [run.label], run.label):
                # The run's assembly moves in whole: its assets stay beside their manifest.
                folder = merge(assembly, run.label, run.outdir)
                found[run.label] = stacks_by_region(folder, [run.label], run.label)[run.label]
    check_complete(requested, found)
    for region in requested:
        read_artifact(region, found[region], inputs["account"])
    return {region: found[region] for region in requested}
