"""The synth cache: one folder per hash of everything that can change the templates.

A synth runs in a fresh job folder that is renamed into place when it is complete, so an entry
is never half written; the least recently used entries and crashed jobs are pruned."""

import hashlib
import json
import os
import re
import shutil
import sys
import time
import uuid
from importlib import metadata
from pathlib import Path

from ..node import node_version
from .assembly import Stack, StackArtifact, read_artifact, stacks_at
from .errors import SynthError
from .inputs import App

RESULT_FILE = "synth.json"
ASSEMBLY = "assembly"
# 2: every region's assembly kept whole; stacks found again by their manifest and artifact id.
CACHE_FORMAT = 2
CACHE_ENTRY = re.compile(r"^[0-9a-f]{64}$")


def _library_versions() -> dict[str, str]:
    versions = {"node": node_version(), "python": sys.version.split()[0]}
    for name in ("aws-cdk-lib", "constructs", "jsii", "cdk-nag"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = ""
    return versions


def cache_key(application, inputs: dict, app: App) -> str:
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


def new_job(cache_dir: Path) -> Path:
    """A fresh folder for one synth, beside the entries it will be renamed to."""
    job = cache_dir / f".job-{uuid.uuid4().hex}"
    try:
        (job / ASSEMBLY).mkdir(parents=True)
    except OSError as exc:
        raise SynthError("internal", f"The synth folder {job} cannot be created: {exc}.") from None
    return job


def write_result(job: Path, key: str, inputs: dict, lines: list[tuple[str, str]],
                 stacks: dict[str, Stack]) -> None:
    (job / RESULT_FILE).write_text(json.dumps({
        "key": key,
        "inputs": inputs,
        "lines": lines,
        "stacks": {
            region: {
                "stack_name": stack.stack_name,
                "artifact_id": stack.artifact_id,
                "directory": str(stack.directory.relative_to(job / ASSEMBLY)),
            }
            for region, stack in stacks.items()
        },
    }))


def read_entry(entry: Path) -> tuple[dict[str, StackArtifact], list[tuple[str, str]]] | None:
    """The stacks and output lines of a cached synth, or None when there is no usable entry."""
    result_file = entry / RESULT_FILE
    if not result_file.is_file():
        return None
    outdir = entry / ASSEMBLY
    try:
        stored = json.loads(result_file.read_text())
        stacks = {}
        written = stacks_at(outdir)
        for region, stack in stored["stacks"].items():
            found = written[(outdir / stack["directory"], stack["artifact_id"])]
            stacks[region] = read_artifact(region, found, stored["inputs"]["account"])
        lines = [(stream, line) for stream, line in stored["lines"]]
    except (OSError, ValueError, KeyError, TypeError, SynthError):
        # A damaged entry is dropped and synthesized again rather than trusted.
        shutil.rmtree(entry, ignore_errors=True)
        return None
    try:
        os.utime(entry)  # most recently used: pruned last
    except OSError:
        pass
    return stacks, lines


def publish(job: Path, entry: Path, *, keep_existing: bool) -> None:
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


def prune(cache_dir: Path, *, keep: int, stale_after: float) -> None:
    try:
        children = list(cache_dir.iterdir())
    except OSError:
        return
    entries = sorted(
        (path for path in children if CACHE_ENTRY.match(path.name)), key=_mtime, reverse=True
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
