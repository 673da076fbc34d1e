"""The synth service: runs an application's CDK app the way the CDK CLI does and returns its
cloud assembly, one CloudFormation template per region.

The app is a subprocess with CDK_OUTDIR (a fresh folder) and CDK_CONTEXT_JSON (the inputs
derived from the inventory). An app that synthesizes every region in one run is run once; an
app that reads only AWS_REGION is run once per region and the stacks are merged. Results are
cached by a hash of everything that can change the templates, so an unchanged plan
synthesizes nothing. docs/app-contract.md describes the contract for operators' own apps.
"""

import hashlib
import json
import os
import queue
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError

from regions.models import RegionState, Source
from regions.validators import validate_region_code

from .node import node_bin_dir, node_path, node_version

STACK_ARTIFACT = "aws:cloudformation:stack"
NESTED_ASSEMBLY = "cdk:cloud-assembly"
REQUIRED_OUTPUT = "HealthCheckId"
APP_MODULES = {Source.REFERENCE: "deployer.cdkapp", Source.SANDBOX: "deployer.sandboxapp"}
# The packages whose sources make up each built-in app (the sandbox app reuses the reference's).
APP_PACKAGES = {
    Source.REFERENCE: ("deployer/cdkapp",),
    Source.SANDBOX: ("deployer/cdkapp", "deployer/sandboxapp"),
}
RESULT_FILE = "synth.json"
CACHE_FORMAT = 1
LINE_TAIL = 12
# How long output may stay open after the app exited (a child it left behind holds it).
LINGER = 2.0

# Only these reach the app: the control plane's own secrets (SECRET_KEY, DATABASE_URL, AWS
# credentials) have no business in a synth, which needs no AWS access.
PASSED_ENV = (
    "HOME", "USER", "LOGNAME", "LANG", "TZ", "TMPDIR", "TMP", "TEMP", "SYSTEMROOT",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
)
PASSED_ENV_PREFIXES = ("LC_", "NPM_CONFIG_", "npm_config_", "NODE_")
SKIPPED_DIRS = {"cdk.out", "node_modules", ".git", "__pycache__", ".venv", ".mypy_cache"}
HASH_FILE_CAP = 1 << 20
HASH_TOTAL_CAP = 32 << 20
_CACHE_ENTRY = re.compile(r"^[0-9a-f]{64}$")


class SynthError(Exception):
    """The app could not be synthesized. `kind` says why, `retryable` whether trying again
    can help: input (the inventory or the app's settings), app_failed (the app exited with an
    error), timeout, contract (the assembly lacks what the control plane needs), internal."""

    KINDS = ("input", "app_failed", "timeout", "contract", "internal")

    def __init__(self, kind: str, message: str, *, retryable: bool | None = None, lines=()):
        if kind not in self.KINDS:
            raise ValueError(f"unknown synth error kind {kind!r}")
        super().__init__(message)
        self.kind = kind
        self.retryable = kind in ("timeout", "internal") if retryable is None else retryable
        self.lines = list(lines)


@dataclass(frozen=True)
class StackArtifact:
    region: str
    stack_name: str
    template: dict
    template_path: Path
    environment: str
    outputs: list[str]

    @property
    def resource_count(self) -> int:
        return len(self.template.get("Resources") or {})


@dataclass(frozen=True)
class SynthResult:
    key: str
    outdir: Path
    stacks: dict[str, StackArtifact]
    lines: list[tuple[str, str]]
    cached: bool
    elapsed: float


# Inputs


def planned_regions(application) -> list[str]:
    """Regions that should exist once the next rollout is done: main first, then sorted."""
    codes = application.regions.exclude(
        state__in=[RegionState.REMOVED, RegionState.REMOVING]
    ).values_list("code", flat=True)
    return _main_first(application.main_region, codes)


def _main_first(main: str, codes) -> list[str]:
    unique = sorted(set(codes))
    return ([main] if main in unique else []) + [code for code in unique if code != main]


def _checked_regions(what: str, codes) -> list[str]:
    if isinstance(codes, str):
        codes = [code.strip() for code in codes.split(",") if code.strip()]
    for code in codes:
        try:
            validate_region_code(code)
        except ValidationError as exc:
            raise SynthError("input", f"Cannot synthesize these {what}: {exc.messages[0]}") from None
    return list(codes)


def app_inputs(
    application,
    regions: list[str] | None = None,
    replica_regions: list[str] | None = None,
    release: str | None = None,
) -> dict:
    """The context the app receives (CDK_CONTEXT_JSON), derived from the inventory.

    `regions` defaults to the regions that should exist after this rollout (not removed or
    removing), main first; `replica_regions` to those regions minus the main one."""
    main = application.main_region
    if regions is None:
        regions = planned_regions(application)
    regions = _main_first(main, _checked_regions("regions", regions))
    if not regions:
        raise SynthError(
            "input",
            f"{application.slug} has no regions to synthesize: add its main region {main} "
            "to the inventory first.",
        )
    if replica_regions is None:
        replicas = [code for code in regions if code != main]
    else:
        replicas = sorted(set(_checked_regions("replica regions", replica_regions)))
        if main in replicas:
            raise SynthError(
                "input",
                f"The main region {main} owns the global table and cannot also be one of its "
                "replicas.",
            )
    return {
        "region": regions[0],
        "regions": ",".join(regions),
        "main_region": main,
        "replica_regions": ",".join(replicas),
        "domain_name": application.domain_name,
        "hosted_zone_id": application.hosted_zone_id,
        "table_name": application.table_name,
        "account": application.account_id,
        "app_name": application.slug,
        "stage": application.stage,
        "health_check_interval": int(application.health_check_interval),
        "failure_threshold": int(application.failure_threshold),
        "release": release or "",
    }


def app_env(inputs: dict, region: str, outdir: Path) -> dict[str, str]:
    """The environment of one app run: the contract's variables, the pinned Node first."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name in PASSED_ENV or name.startswith(PASSED_ENV_PREFIXES)
    }
    path = [str(node_bin_dir()), str(Path(sys.executable).parent)]
    env["PATH"] = os.pathsep.join([*path, os.environ.get("PATH", os.defpath)])
    context = {**inputs, "region": region}
    env.update(
        CDK_OUTDIR=str(outdir),
        CDK_CONTEXT_JSON=json.dumps(context),
        AWS_REGION=region,
        AWS_DEFAULT_REGION=region,
        CDK_DEFAULT_REGION=region,
        CDK_DEFAULT_ACCOUNT=inputs["account"],
        REGIONS=inputs["regions"],
        MAIN_REGION=inputs["main_region"],
        REPLICATION_REGIONS=inputs["replica_regions"],
        DOMAIN_NAME=inputs["domain_name"],
        HOSTED_ZONE_ID=inputs["hosted_zone_id"],
        TABLE_NAME=inputs["table_name"],
        APP_NAME=inputs["app_name"],
        STAGE=inputs["stage"],
        HEALTH_CHECK_INTERVAL=str(inputs["health_check_interval"]),
        FAILURE_THRESHOLD=str(inputs["failure_threshold"]),
        RELEASE=inputs["release"],
        JSII_NODE=str(node_path()),
        # The Node version is pinned by the project; a newer one than jsii lists is deliberate.
        JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION="1",
        PYTHONUNBUFFERED="1",
    )
    return env


@dataclass(frozen=True)
class _App:
    argv: list[str]
    cwd: Path
    sources: str  # digest of the app's source files


def _app(application) -> _App:
    if application.source in APP_MODULES:
        module = APP_MODULES[application.source]
        folder = Path(settings.BASE_DIR).joinpath(*module.split("."))
        if not (folder / "__main__.py").is_file():
            raise SynthError(
                "input",
                f"{application.get_source_display()} ({module}) is not installed in this "
                "control plane.",
            )
        digest = hashlib.sha256()
        for package in APP_PACKAGES[application.source]:
            digest.update(package.encode() + b"\0")
            folder = Path(settings.BASE_DIR) / package
            digest.update(_hash_files(folder, lambda path: path.suffix == ".py").encode())
        return _App([sys.executable, "-m", module], Path(settings.BASE_DIR), digest.hexdigest())
    if application.source != Source.COMMAND:
        raise SynthError("input", f"Unknown app source {application.source!r}.")
    try:
        argv = shlex.split(application.command or "")
    except ValueError as exc:
        raise SynthError("input", f"The app command cannot be parsed: {exc}.") from None
    if not argv:
        raise SynthError("input", f"{application.slug} has no app command to run.")
    workdir = Path(application.workdir or ".").expanduser()
    if not workdir.is_absolute():
        workdir = Path(settings.BASE_DIR) / workdir
    if not workdir.is_dir():
        raise SynthError(
            "input",
            f"The working folder of {application.slug}'s app, {workdir}, does not exist or is "
            "not a folder.",
        )
    return _App(argv, workdir, _hash_files(workdir, lambda path: True))


def _hash_files(root: Path, wanted: Callable[[Path], bool]) -> str:
    """Digest of a source tree; past the size caps a file counts by size and mtime only."""
    digest = hashlib.sha256()
    budget = HASH_TOTAL_CAP
    # The control plane's own state (database, synth cache) changes on every synth: never hash it.
    own = {Path(settings.VAR_DIR).resolve(), Path(settings.SYNTH_CACHE_DIR).resolve()}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS
                         and Path(folder, d).resolve() not in own)
        for name in sorted(files):
            path = Path(folder, name)
            if not wanted(path) or not path.is_file():
                continue
            digest.update(str(path.relative_to(root)).encode() + b"\0")
            try:
                stat = path.stat()
                if stat.st_size <= HASH_FILE_CAP and stat.st_size <= budget:
                    budget -= stat.st_size
                    digest.update(hashlib.sha256(path.read_bytes()).digest())
                else:
                    digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
            except OSError:  # gone or unreadable since the walk: it cannot be part of the app
                digest.update(b"unreadable")
    return digest.hexdigest()


def _library_versions() -> dict[str, str]:
    versions = {"node": node_version(), "python": sys.version.split()[0]}
    for name in ("aws-cdk-lib", "constructs", "jsii", "cdk-nag"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = ""
    return versions


def cache_key(application, inputs: dict, app: _App) -> str:
    material = {
        "format": CACHE_FORMAT,
        "inputs": inputs,
        "source": application.source,
        "argv": app.argv,
        "cwd": str(app.cwd),
        "sources": app.sources,
        "versions": _library_versions(),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


# Running the app


@dataclass(eq=False)
class _Run:
    label: str  # the region this run was started for
    argv: list[str]
    cwd: Path
    env: dict
    outdir: Path
    proc: subprocess.Popen | None = None
    open_streams: int = 2
    exited_at: float | None = None
    stderr_tail: deque = field(default_factory=lambda: deque(maxlen=LINE_TAIL))
    stdout_tail: deque = field(default_factory=lambda: deque(maxlen=LINE_TAIL))


def _pump(run: _Run, stream: str, pipe, events: queue.Queue) -> None:
    try:
        for raw in iter(pipe.readline, b""):
            events.put((run, stream, raw.decode("utf-8", "replace").rstrip("\r\n")))
    finally:
        pipe.close()
        events.put((run, stream, None))


def _start(run: _Run, events: queue.Queue) -> None:
    run.outdir.mkdir(parents=True, exist_ok=True)
    try:
        run.proc = subprocess.Popen(
            run.argv,
            cwd=run.cwd,
            env=run.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group, so a timeout kills all of it
        )
    except (FileNotFoundError, PermissionError) as exc:
        raise SynthError(
            "input", f"The app command {run.argv[0]!r} cannot be started in {run.cwd}: "
            f"{exc.strerror}.",
        ) from None
    except OSError as exc:
        raise SynthError("internal", f"The app could not be started: {exc}.") from None
    for stream, pipe in (("stdout", run.proc.stdout), ("stderr", run.proc.stderr)):
        threading.Thread(target=_pump, args=(run, stream, pipe, events), daemon=True).start()


def _kill(run: _Run) -> None:
    if run.proc is None:
        return
    for sig, grace in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(run.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            run.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue


def _sweep_lingering(running: list[_Run]) -> None:
    """Kill what an exited app left running in its group, so its output reaches end of file."""
    now = time.monotonic()
    for run in running:
        if run.exited_at is None:
            if run.proc.poll() is not None:
                run.exited_at = now
        elif now - run.exited_at > LINGER:
            try:
                os.killpg(run.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def _failure_message(slug: str, run: _Run, code: int) -> str:
    how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
    tail = list(run.stderr_tail) or list(run.stdout_tail)
    quoted = "\n".join(f"  {line}" for line in tail) or "  (no output)"
    return f"The CDK app of {slug} {how} while synthesizing region {run.label}:\n{quoted}"


def _run_all(
    runs: list[_Run],
    *,
    slug: str,
    deadline: float,
    timeout: float,
    parallel: int,
    on_line: Callable[[str, str], None] | None,
    lines: list[tuple[str, str]],
    prefix: bool,
) -> None:
    """Run the app processes, at most `parallel` at a time, calling on_line in this thread."""
    events: queue.Queue = queue.Queue()
    pending = list(runs)
    running: list[_Run] = []

    def timed_out(run: _Run) -> SynthError:
        return SynthError(
            "timeout",
            f"The CDK app of {slug} did not finish synthesizing region {run.label} within "
            f"{timeout:g} s and was stopped (SYNTH_TIMEOUT sets the limit).",
            lines=lines,
        )

    try:
        while pending or running:
            while pending and len(running) < parallel:
                run = pending.pop(0)
                _start(run, events)
                running.append(run)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise timed_out(running[0])
            _sweep_lingering(running)
            try:
                run, stream, line = events.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if line is None:
                run.open_streams -= 1
                if run.open_streams:
                    continue
                try:
                    code = run.proc.wait(timeout=max(deadline - time.monotonic(), 0.01))
                except subprocess.TimeoutExpired:
                    raise timed_out(run) from None
                running.remove(run)
                if code != 0:
                    raise SynthError(
                        "app_failed", _failure_message(slug, run, code), lines=lines
                    )
                continue
            (run.stderr_tail if stream == "stderr" else run.stdout_tail).append(line)
            shown = f"[{run.label}] {line}" if prefix else line
            lines.append((stream, shown))
            if on_line is not None:
                on_line(stream, shown)
    finally:
        for run in running:
            _kill(run)


# Reading the cloud assembly


@dataclass(frozen=True)
class _Stack:
    artifact_id: str
    artifact: dict
    stack_name: str
    environment: str
    template_path: Path


def _load_json(path: Path, what: str) -> dict:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise SynthError("contract", f"{what} is missing ({path.name}).") from None
    except (OSError, ValueError) as exc:
        raise SynthError("contract", f"{what} cannot be read: {exc}.") from None
    if not isinstance(data, dict):
        raise SynthError("contract", f"{what} is not a JSON object.")
    return data


def _stacks_in(outdir: Path) -> list[_Stack]:
    manifest = _load_json(
        outdir / "manifest.json",
        "The app wrote no cloud assembly to CDK_OUTDIR: its manifest",
    )
    found = []
    for artifact_id, artifact in (manifest.get("artifacts") or {}).items():
        kind = artifact.get("type")
        properties = artifact.get("properties") or {}
        if kind == NESTED_ASSEMBLY and properties.get("directoryName"):
            found += _stacks_in(outdir / properties["directoryName"])
        elif kind == STACK_ARTIFACT:
            template_file = properties.get("templateFile")
            if not template_file:
                raise SynthError(
                    "contract", f"Stack {artifact_id} in the cloud assembly names no template file."
                )
            found.append(
                _Stack(
                    artifact_id=artifact_id,
                    artifact=artifact,
                    stack_name=properties.get("stackName") or artifact_id,
                    environment=artifact.get("environment") or "",
                    template_path=outdir / template_file,
                )
            )
    return found


def _stack_region(stack: _Stack, requested: list[str]) -> str | None:
    parts = stack.environment.removeprefix("aws://").split("/")
    if len(parts) == 2 and parts[1] and not parts[1].startswith("unknown-"):
        return parts[1]
    # An environment-agnostic stack: the region is whatever its name says.
    names = (stack.stack_name, stack.artifact_id, stack.template_path.name)
    named = [code for code in requested if any(code in name for name in names)]
    return max(named, key=len) if named else None


def _stacks_by_region(outdir: Path, requested: list[str], run_region: str) -> dict[str, _Stack]:
    stacks = _stacks_in(outdir)
    by_region: dict[str, list[_Stack]] = {}
    for stack in stacks:
        region = _stack_region(stack, requested)
        if region is None and len(stacks) == 1:
            region = run_region
        if region is not None:
            by_region.setdefault(region, []).append(stack)
    for region, found in by_region.items():
        if len(found) > 1 and region in requested:
            names = ", ".join(stack.stack_name for stack in found)
            raise SynthError(
                "contract",
                f"The app produced {len(found)} stacks for region {region} ({names}); the "
                "control plane deploys exactly one stack per region.",
            )
    return {region: found[0] for region, found in by_region.items()}


def _artifact(region: str, stack: _Stack) -> StackArtifact:
    template = _load_json(
        stack.template_path, f"The template of stack {stack.stack_name} (region {region})"
    )
    outputs = list((template.get("Outputs") or {}).keys())
    if REQUIRED_OUTPUT not in outputs:
        raise SynthError(
            "contract",
            f"Stack {stack.stack_name} (region {region}) does not output {REQUIRED_OUTPUT}, "
            "which the control plane needs to watch the region.",
        )
    return StackArtifact(
        region=region,
        stack_name=stack.stack_name,
        template=template,
        template_path=stack.template_path,
        environment=stack.environment,
        outputs=outputs,
    )


def _merge(assembly: Path, region: str, stack: _Stack) -> _Stack:
    """Copy a one-region run's stack into the main assembly, renaming on a name clash."""
    manifest_path = assembly / "manifest.json"
    manifest = _load_json(manifest_path, "The cloud assembly's manifest")
    artifacts = manifest.setdefault("artifacts", {})
    artifact_id = stack.artifact_id
    if artifact_id in artifacts:
        artifact_id = f"{artifact_id}-{region}"
    template_name = stack.template_path.name
    if (assembly / template_name).exists():
        template_name = f"{artifact_id}.template.json"
    shutil.copyfile(stack.template_path, assembly / template_name)
    artifact = json.loads(json.dumps(stack.artifact))
    properties = artifact.setdefault("properties", {})
    properties["templateFile"] = template_name
    properties["stackName"] = stack.stack_name
    artifacts[artifact_id] = artifact
    staged = manifest_path.with_suffix(".json.tmp")
    staged.write_text(json.dumps(manifest, indent=2))
    os.replace(staged, manifest_path)
    return replace(stack, artifact_id=artifact_id, template_path=assembly / template_name)


def _check_complete(requested: list[str], found: dict[str, _Stack]) -> None:
    missing = [region for region in requested if region not in found]
    if missing:
        produced = ", ".join(sorted(found)) or "none"
        raise SynthError(
            "contract",
            f"The app produced no stack for region {', '.join(missing)} (stacks were produced "
            f"for: {produced}). Every region of the application needs its own stack.",
        )


# The service


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
    app = _app(application)
    key = cache_key(application, inputs, app)
    cache_dir = Path(settings.SYNTH_CACHE_DIR)
    entry = cache_dir / key
    if use_cache:
        hit = _cached(entry, key, started)
        if hit is not None:
            return hit

    timeout = float(settings.SYNTH_TIMEOUT if timeout is None else timeout)
    job = cache_dir / f".job-{uuid.uuid4().hex}"
    try:
        (job / "assembly").mkdir(parents=True)
    except OSError as exc:
        raise SynthError("internal", f"The synth folder {job} cannot be created: {exc}.") from None
    lines: list[tuple[str, str]] = []
    try:
        stacks = _synth(application.slug, app, inputs, job, started + timeout, timeout,
                        on_line, lines)
        (job / RESULT_FILE).write_text(json.dumps({
            "key": key,
            "inputs": inputs,
            "lines": lines,
            "stacks": {
                region: {
                    "stack_name": stack.stack_name,
                    "environment": stack.environment,
                    "template": str(stack.template_path.relative_to(job / "assembly")),
                }
                for region, stack in stacks.items()
            },
        }))
        shutil.rmtree(job / "regions", ignore_errors=True)
        _publish(job, entry, keep_existing=use_cache)
    except BaseException:
        shutil.rmtree(job, ignore_errors=True)
        raise
    _prune(cache_dir, keep=int(getattr(settings, "SYNTH_CACHE_KEEP", 20)), stale_after=max(timeout, float(settings.SYNTH_TIMEOUT)))
    outdir = entry / "assembly"
    moved = {
        region: replace(stack, template_path=outdir / stack.template_path.relative_to(job / "assembly"))
        for region, stack in stacks.items()
    }
    return SynthResult(key, outdir, moved, lines, False, time.monotonic() - started)


def _synth(slug, app: _App, inputs: dict, job: Path, deadline: float, timeout: float,
           on_line, lines) -> dict[str, StackArtifact]:
    requested = inputs["regions"].split(",")
    assembly = job / "assembly"
    first = requested[0]
    options = dict(slug=slug, deadline=deadline, timeout=timeout, on_line=on_line, lines=lines)
    _run_all([_Run(first, app.argv, app.cwd, app_env(inputs, first, assembly), assembly)],
             parallel=1, prefix=False, **options)
    found = _stacks_by_region(assembly, requested, first)
    rest = [region for region in requested if region not in found]
    if rest and set(found) & set(requested) == {first}:
        # An app that reads only AWS_REGION: one more run for each remaining region.
        runs = [
            _Run(region, app.argv, app.cwd, app_env(inputs, region, job / "regions" / region),
                 job / "regions" / region)
            for region in rest
        ]
        _run_all(runs, parallel=max(1, int(getattr(settings, "SYNTH_PARALLEL", 2))),
                 prefix=True, **options)
        for run in runs:
            got = _stacks_by_region(run.outdir, [run.label], run.label)
            if run.label in got:
                found[run.label] = _merge(assembly, run.label, got[run.label])
    _check_complete(requested, found)
    return {region: _artifact(region, found[region]) for region in requested}


def _cached(entry: Path, key: str, started: float) -> SynthResult | None:
    result_file = entry / RESULT_FILE
    if not result_file.is_file():
        return None
    outdir = entry / "assembly"
    try:
        stored = json.loads(result_file.read_text())
        stacks = {}
        for region, stack in stored["stacks"].items():
            found = _Stack(stack["stack_name"], {}, stack["stack_name"], stack["environment"],
                           outdir / stack["template"])
            stacks[region] = _artifact(region, found)
        lines = [(stream, line) for stream, line in stored["lines"]]
    except (OSError, ValueError, KeyError, TypeError, SynthError):
        # A damaged entry is dropped and synthesized again rather than trusted.
        shutil.rmtree(entry, ignore_errors=True)
        return None
    try:
        os.utime(entry)  # most recently used: pruned last
    except OSError:
        pass
    return SynthResult(key, outdir, stacks, lines, True, time.monotonic() - started)


def _publish(job: Path, entry: Path, *, keep_existing: bool) -> None:
    """Move a finished job into the cache in one rename, so the cache never holds half a synth."""
    try:
        os.rename(job, entry)
        return
    except OSError:
        if not entry.exists():
            raise SynthError("internal", f"The synth result cannot be stored in {entry}.") from None
    if keep_existing:
        # Another job stored the same inputs first; its assembly is identical.
        shutil.rmtree(job, ignore_errors=True)
        return
    trash = entry.with_name(f".trash-{uuid.uuid4().hex}")
    os.rename(entry, trash)
    os.rename(job, entry)
    shutil.rmtree(trash, ignore_errors=True)


def _prune(cache_dir: Path, *, keep: int, stale_after: float) -> None:
    try:
        children = list(cache_dir.iterdir())
    except OSError:
        return
    entries = sorted(
        (path for path in children if _CACHE_ENTRY.match(path.name)), key=_mtime, reverse=True
    )
    old = entries[max(keep, 1):]
    cutoff = time.time() - stale_after - 60
    # Folders of jobs that crashed: older than any job could run.
    old += [
        path for path in children
        if path.name.startswith((".job-", ".trash-")) and _mtime(path) < cutoff
    ]
    for path in old:
        shutil.rmtree(path, ignore_errors=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # pruned by a concurrent job
        return 0.0
