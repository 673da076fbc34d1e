"""synth_plan and synth_application: run the app once for every region and replica step (or
once per region and step for an app that reads only AWS_REGION), or answer from the cache when
nothing that shapes the templates changed."""

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from . import warm
from .assembly import (
    Stack,
    StackArtifact,
    check_complete,
    detach_steps,
    link_assets,
    merge,
    nest,
    read_artifact,
    stacks_by_region,
)
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

STEP_FOLDER = "step"


@dataclass(frozen=True)
class SynthResult:
    key: str
    outdir: Path
    stacks: dict[str, StackArtifact]
    lines: list[tuple[str, str]]
    cached: bool
    elapsed: float
    app_starts: int = 0


@dataclass(frozen=True)
class PlanSynth:
    """Every synth a plan needs: all regions with the final replicas, and the main region's stack
    at each replica step."""

    final: SynthResult
    steps: dict[tuple[str, ...], SynthResult]
    app_starts: int
    cache_hits: int
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
    return synth_plan(application, regions=regions, replica_regions=replica_regions,
                      release=release, on_line=on_line, timeout=timeout,
                      use_cache=use_cache).final


def synth_plan(
    application,
    *,
    regions: list[str] | None = None,
    replica_regions: list[str] | None = None,
    replica_steps: list[list[str]] | tuple = (),
    release: str | None = None,
    on_line: Callable[[str, str], None] | None = None,
    timeout: float | None = None,
    use_cache: bool = True,
) -> PlanSynth:
    """The final synth and each replica step's (the main region alone with the step's replicas),
    from one app start when the app writes `replica_steps`, else one more run per step.

    Each is cached under the key a synth of its own inputs has, so either way finds the other."""
    started = time.monotonic()
    app = resolve_app(application)
    inputs = app_inputs(application, regions, replica_regions, release)
    main = inputs["main_region"]
    steps = {}
    for replicas in replica_steps:
        step_inputs = app_inputs(application, [main], list(replicas), release)
        steps[tuple(replicas)] = step_inputs
    key = cache_key(application, inputs, app)
    step_keys = {replicas: cache_key(application, i, app) for replicas, i in steps.items()}
    cache_dir = Path(settings.SYNTH_CACHE_DIR)
    timeout = float(settings.SYNTH_TIMEOUT if timeout is None else timeout)
    found: dict[str, SynthResult] = {}
    for wanted in {key, *step_keys.values()} if use_cache else ():
        hit = read_entry(cache_dir / wanted)
        if hit is not None:
            found[wanted] = SynthResult(wanted, cache_dir / wanted / ASSEMBLY, hit[0], hit[1],
                                        True, 0.0)
    hits = len(found)
    # One deadline for the whole plan, however many runs it takes.
    options = dict(cache_dir=cache_dir, deadline=started + timeout, timeout=timeout,
                   on_line=on_line, use_cache=use_cache)
    missing = [(step_keys[r], steps[r]) for r in steps if step_keys[r] not in {key, *found}]
    starts = 0
    if key not in found or missing:
        final, written = _run(application, app, inputs, key, missing, **options)
        starts += final.app_starts
        found.setdefault(key, final)
        found.update({k: v for k, v in written.items() if k not in found})
    for replicas, step_key in step_keys.items():
        if step_key not in found:
            # An app that ignores replica_steps: the step is a synth of its own.
            found[step_key] = _run(application, app, steps[replicas], step_key, [], **options)[0]
            starts += found[step_key].app_starts
    return PlanSynth(
        final=found[key],
        steps={replicas: found[k] for replicas, k in step_keys.items()},
        app_starts=starts,
        cache_hits=hits,
        elapsed=time.monotonic() - started,
    )


def _run(application, app: App, inputs: dict, key: str, steps: list[tuple[str, dict]], *,
         cache_dir: Path, deadline: float, timeout: float, on_line, use_cache: bool
         ) -> tuple[SynthResult, dict[str, SynthResult]]:
    """Run the app once (or once per region), store its assembly and those of the steps it
    wrote in the cache, and read them back from there."""
    started = time.monotonic()
    entry = cache_dir / key
    job = new_job(cache_dir)
    lines: list[tuple[str, str]] = []
    stored: list[str] = []
    try:
        stacks, starts, step_dirs = _synth(
            application.slug, app, inputs, [i["replica_regions"] for _, i in steps], job,
            deadline, timeout, on_line, lines)
        for index, folder in step_dirs.items():
            step_key, step_inputs = steps[index]
            _store_step(cache_dir, folder, job / ASSEMBLY, step_key, step_inputs, use_cache)
            stored.append(step_key)
        write_result(job, key, inputs, lines, stacks)
        shutil.rmtree(job / "regions", ignore_errors=True)
        shutil.rmtree(job / "steps", ignore_errors=True)
        publish(job, entry, keep_existing=use_cache)
    except BaseException:
        shutil.rmtree(job, ignore_errors=True)
        raise
    prune(cache_dir, keep=settings.SYNTH_CACHE_KEEP + len(stored),
          stale_after=max(timeout, float(settings.SYNTH_TIMEOUT)))
    elapsed = time.monotonic() - started
    final = _read_back(cache_dir, key, lines, elapsed, starts)
    return final, {k: _read_back(cache_dir, k, [], 0.0, 0) for k in stored}


def _read_back(cache_dir: Path, key: str, lines, elapsed: float, starts: int) -> SynthResult:
    # Read from where the assembly now lives, so every path points into the cache entry.
    entry = cache_dir / key
    stored = read_entry(entry)
    if stored is None:
        raise SynthError("internal", f"The synth result stored in {entry} cannot be read back.")
    return SynthResult(key, entry / ASSEMBLY, stored[0], lines, False, elapsed, starts)


def _store_step(cache_dir: Path, folder: Path, run_assembly: Path, key: str, inputs: dict,
                use_cache: bool) -> None:
    """A replica step's nested assembly becomes the cache entry of its own inputs, nested in
    turn, beside links to the run's assets its manifests name as ../asset.*."""
    main = inputs["main_region"]
    job = new_job(cache_dir)
    try:
        assembly = job / ASSEMBLY
        folder.rename(assembly / STEP_FOLDER)
        link_assets(run_assembly, assembly)
        nest(assembly, STEP_FOLDER)
        found = stacks_by_region(assembly, [main], main)
        check_complete([main], found)
        read_artifact(main, found[main], inputs["account"])
        write_result(job, key, inputs, [], {main: found[main]})
        publish(job, cache_dir / key, keep_existing=use_cache)
    except BaseException:
        shutil.rmtree(job, ignore_errors=True)
        raise


def cached_stack(key: str, region: str) -> tuple[Path, StackArtifact] | None:
    """The cloud assembly of a synth still in the cache and its stack for `region`."""
    if not CACHE_ENTRY.match(key):
        return None  # never a path outside the cache: a damaged entry is deleted when read
    entry = Path(settings.SYNTH_CACHE_DIR) / key
    hit = read_entry(entry)
    if hit is None or region not in hit[0]:
        return None
    return entry / ASSEMBLY, hit[0][region]


def _synth(slug, app: App, inputs: dict, replica_steps: list[str], job: Path, deadline: float,
           timeout: float, on_line, lines) -> tuple[dict[str, Stack], int, dict[int, Path]]:
    """Run the app; return each region's stack (every one checked by reading it), how many
    times the app was started, and the folders of the replica steps' assemblies it wrote."""
    requested = inputs["regions"].split(",")
    assembly = job / ASSEMBLY
    first = requested[0]
    options = dict(slug=slug, deadline=deadline, timeout=timeout, on_line=on_line, lines=lines)
    steps = [[code for code in replicas.split(",") if code] for replicas in replica_steps]
    env = app_env(inputs, first, assembly, steps)
    started = _warm_run(app, env, assembly, deadline, on_line, lines)
    if started is None:
        run_all([Run(first, app.argv, app.cwd, env, assembly, isolated=app.isolated)],
                parallel=1, prefix=False, **options)
        started = 1
    step_dirs = detach_steps(assembly, len(steps), job / "steps")
    found = stacks_by_region(assembly, requested, first)
    rest = [region for region in requested if region not in found]
    if not (rest and set(found) & set(requested) == {first}):
        rest = []
    if rest:
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
    return {region: found[region] for region in requested}, started + len(rest), step_dirs


def _warm_run(app: App, env: dict, outdir: Path, deadline: float, on_line, lines) -> int | None:
    """A built-in app's synth by its warm process: the app starts it took (0 or 1), or None
    when it could not answer or the app failed, and the cold run says so in its own words."""
    if not (app.module and settings.SYNTH_WARM):
        return None
    try:
        code, output, started = warm.synth(app.module, app.cwd, env, deadline)
    except Exception:  # noqa: BLE001 - any failure of the warm process falls back to a cold run
        code, output, started = -1, [], False
    if code != 0:
        shutil.rmtree(outdir, ignore_errors=True)
        outdir.mkdir(parents=True)
        return None
    for stream, line in output:
        lines.append((stream, line))
        if on_line is not None:
            on_line(stream, line)
    return int(started)
