"""What a synth runs and with what: the planned regions, the app's inputs (CDK_CONTEXT_JSON),
its environment, and the app itself with a digest of its sources."""

import hashlib
import json
import os
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError

from regions.models import RegionState, Source
from regions.validators import validate_region_code

from ..node import node_bin_dir, node_path
from .errors import SynthError
from .isolation import check_workdir

APP_MODULES = {Source.REFERENCE: "deployer.cdkapp", Source.SANDBOX: "deployer.sandboxapp"}
# The packages whose sources make up each built-in app (the sandbox app reuses the reference's).
APP_PACKAGES = {
    Source.REFERENCE: ("deployer/cdkapp",),
    Source.SANDBOX: ("deployer/cdkapp", "deployer/sandboxapp"),
}

# Only these reach the app: the control plane's own secrets (SECRET_KEY, DATABASE_URL, AWS
# credentials) have no business in a synth, which needs no AWS access.
PASSED_ENV = (
    "HOME", "USER", "LOGNAME", "LANG", "TZ", "TMPDIR", "TMP", "TEMP", "SYSTEMROOT",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
)
PASSED_ENV_PREFIXES = ("LC_", "NPM_CONFIG_", "npm_config_", "NODE_", "TS_NODE_")
# The asset publisher also needs the Docker client's settings to build container images.
PUBLISHER_ENV_PREFIXES = ("DOCKER_", "BUILDX_", "CDK_DOCKER")
SKIPPED_DIRS = {"cdk.out", "node_modules", ".git", "__pycache__", ".venv", ".mypy_cache"}
HASH_FILE_CAP = 1 << 20
HASH_TOTAL_CAP = 32 << 20


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
        **traffic_inputs(application),
    }


def traffic_inputs(application) -> dict:
    """The inventory's traffic states, so a deploy never undoes a drain (docs/region-switch.md)."""
    states = dict(application.regions.exclude(state=RegionState.REMOVED)
                  .values_list("code", "traffic")) if application.pk else {}
    return {
        "drained_regions": ",".join(sorted(c for c, t in states.items() if t == "drained")),
        "forced_regions": ",".join(sorted(c for c, t in states.items() if t == "forced")),
        "control_region": application.control_region or settings.CONTROL_REGION,
    }


def _base_env(prefixes: tuple[str, ...] = PASSED_ENV_PREFIXES) -> dict[str, str]:
    """The variables every child process may see, with the pinned Node first on PATH."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name in PASSED_ENV or name.startswith(prefixes)
    }
    path = [str(node_bin_dir()), str(Path(sys.executable).parent)]
    env["PATH"] = os.pathsep.join([*path, os.environ.get("PATH", os.defpath)])
    return env


def publisher_env(region: str, credentials: dict[str, str], endpoint_url: str | None
                  ) -> dict[str, str]:
    """The environment of the asset publisher: the application's credentials and region only,
    never the control plane's own AWS settings (profiles, config files)."""
    env = _base_env(PASSED_ENV_PREFIXES + PUBLISHER_ENV_PREFIXES)
    env.update(credentials)
    # No profile or shared file may swap in other credentials than the ones given.
    env.update(AWS_REGION=region, AWS_DEFAULT_REGION=region, AWS_CONFIG_FILE=os.devnull,
               AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    return env


def app_env(inputs: dict, region: str, outdir: Path,
            replica_steps: list[list[str]] | None = None) -> dict[str, str]:
    """The environment of one app run: the contract's variables, the pinned Node first."""
    env = _base_env()
    context = {**inputs, "region": region}
    if replica_steps:
        # Every replica step's main stack from this one run, for apps that take the key.
        context["replica_steps"] = replica_steps
        env["REPLICA_STEPS"] = json.dumps(replica_steps)
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


def warm_env() -> dict[str, str]:
    """The environment of a warm synth process: each request brings the contract's variables."""
    env = _base_env()
    env.update(JSII_NODE=str(node_path()), JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION="1",
               PYTHONUNBUFFERED="1")
    return env


@dataclass(frozen=True)
class App:
    argv: list[str]
    cwd: Path
    sources: str  # digest of the app's source files
    isolated: bool = False  # an own app's command: run apart from the control plane
    module: str = ""  # a built-in app's module: it may run warm (deployer.synth.warm)


def resolve_app(application) -> App:
    """The command that synthesizes the application, where it runs, and what it is made of."""
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
            digest.update(hash_files(folder, lambda path: path.suffix == ".py").encode())
        return App([sys.executable, "-m", module], Path(settings.BASE_DIR), digest.hexdigest(),
                   module=module)
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
    check_workdir(workdir)
    return App(argv, workdir, hash_files(workdir, lambda path: True),
               isolated=settings.APP_ISOLATION)


def hash_files(root: Path, wanted: Callable[[Path], bool]) -> str:
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
