"""Publishing a stack's assets in one region — its Lambda code, nested stack templates, the
template itself and container images — to the bucket and repository its asset manifest names,
with the CDK toolkit's own publishing library (`@aws-cdk/cdk-assets-lib`, driven by
deployer/toolkit/publish.js like `cdk-assets publish`), as `cdk deploy` does.

The publisher runs under the synth's process runner (deadline, process group, output lines)
with the application's credentials; it assumes each destination's publishing role itself,
skips objects that exist already (so a second publish uploads nothing) and uploads the rest."""

import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from lib import aws

from .node import node_path
from .synth import StackArtifact
from .synth.inputs import publisher_env
from .synth.needs import Asset
from .synth.process import Run, run_all
from .toolkit import PUBLISHER, installed

# `[50%] upload: Upload s3://bucket/key` and `[50%] found: Found s3://bucket/key`
_EVENT = re.compile(r"\] (upload|found): (?:Upload|Found) (\S+)")
DOCKER_CHECK_TIMEOUT = 20


class AssetError(Exception):
    """The assets could not be published. `kind`: input (the assembly or the publisher is not
    there), docker (container images and no Docker daemon), credentials, app_failed (the
    publisher failed: a missing bucket, a role it could not assume…), timeout, internal."""

    KINDS = ("input", "docker", "credentials", "app_failed", "timeout", "internal")

    def __init__(self, kind: str, message: str, *, retryable: bool | None = None, lines=()):
        if kind not in self.KINDS:
            raise ValueError(f"unknown asset error kind {kind!r}")
        super().__init__(message)
        self.kind = kind
        self.retryable = kind in ("timeout", "internal") if retryable is None else retryable
        self.lines = list(lines)


@dataclass(frozen=True)
class Published:
    stack_name: str
    region: str
    uploaded: list[str]  # s3:// URLs (or image tags) uploaded by this publish
    found: list[str]  # already there, left alone
    template_url: str  # the template's HTTPS URL for CloudFormation, when it is an asset
    lines: list[tuple[str, str]]
    elapsed: float


def publish(assembly_dir: Path, stack: StackArtifact, region: str, application, *,
            on_line: Callable[[str, str], None] | None = None,
            timeout: float | None = None) -> Published:
    """Publish every asset `stack` needs in `region`; returns what was uploaded and found.

    Raises AssetError, or lib.aws.AwsError when the application's role cannot be assumed."""
    started = time.monotonic()
    wanted = stack.needs.in_region(region)
    bootstrap = stack.needs.bootstrap
    template_url = ""
    if bootstrap and bootstrap.template_url:
        template_url = bootstrap.template_https_url(region)
    if not wanted and stack.needs.assets:
        elsewhere = sorted({d.region for a in stack.needs.assets for d in a.destinations})
        raise AssetError("input", f"Stack {stack.stack_name} publishes its assets to "
                         f"{', '.join(elsewhere)}, not to {region}.")
    if not wanted:
        return Published(stack.stack_name, region, [], [], template_url, [], 0.0)
    if not installed():
        raise AssetError("input", "The asset publisher is not installed: run `make venv` (or "
                         "`python -m deployer.toolkit`).")
    root = Path(assembly_dir).resolve()
    if not all(m.resolve().is_relative_to(root) for m in stack.needs.asset_manifests):
        raise AssetError("input", f"The asset manifests of stack {stack.stack_name} are not in "
                         f"the cloud assembly {assembly_dir}.")
    env = publisher_env(region, _credentials(application, region), aws.endpoint_url())
    images = [asset for asset, _ in wanted if asset.kind == "image"]
    if images:
        _require_docker(stack.stack_name, region, images, env)

    # Only this region's destinations, selected as ASSET:DESTINATION.
    selected: dict[Path, list[str]] = {}
    for asset, destination in wanted:
        selected.setdefault(asset.manifest, []).append(f"{asset.id}:{destination.id}")
    runs = [
        Run(region, [str(node_path()), str(PUBLISHER), str(manifest), *selectors],
            manifest.parent, env, manifest.parent,
            what=f"The asset publisher of stack {stack.stack_name}",
            doing=f"publishing to region {region}", program="asset publisher")
        for manifest, selectors in selected.items()
    ]
    timeout = float(settings.ASSETS_TIMEOUT if timeout is None else timeout)
    lines: list[tuple[str, str]] = []
    run_all(runs, slug=application.slug, deadline=started + timeout, timeout=timeout,
            parallel=1, on_line=on_line, lines=lines, prefix=False, limit_name="ASSETS_TIMEOUT",
            error_type=AssetError)
    uploaded, found = [], []
    for _, line in lines:
        event = _EVENT.search(line)
        if event:
            (uploaded if event.group(1) == "upload" else found).append(event.group(2))
    return Published(stack.stack_name, region, uploaded, found, template_url, lines,
                     time.monotonic() - started)


def _credentials(application, region: str) -> dict[str, str]:
    """The application's credentials (its role assumed when it has one), as variables."""
    credentials = aws.session_for(application).get_credentials()
    if credentials is None:
        raise AssetError("credentials", f"No AWS credentials to publish the assets of "
                         f"{application.slug} to {region} with.")
    frozen = credentials.get_frozen_credentials()
    found = {"AWS_ACCESS_KEY_ID": frozen.access_key, "AWS_SECRET_ACCESS_KEY": frozen.secret_key}
    if frozen.token:
        found["AWS_SESSION_TOKEN"] = frozen.token
    return found


def _require_docker(stack_name: str, region: str, images: list[Asset], env: dict) -> None:
    """Container images are built with Docker by the publisher: without a daemon, say which
    images cannot be built."""
    docker = env.get("CDK_DOCKER") or "docker"
    try:
        answer = subprocess.run([docker, "version", "--format", "{{.Server.Version}}"], env=env,
                                capture_output=True, text=True, timeout=DOCKER_CHECK_TIMEOUT,
                                stdin=subprocess.DEVNULL)
        why = "" if answer.returncode == 0 else (answer.stderr.strip().splitlines() or [""])[-1]
    except FileNotFoundError:
        why = f"there is no {docker} command"
    except subprocess.TimeoutExpired:
        why = f"{docker} did not answer within {DOCKER_CHECK_TIMEOUT} s"
    if not why:
        return
    names = ", ".join(f"{image.display_name} ({image.urls(region)[0]})" for image in images)
    raise AssetError(
        "docker",
        f"Stack {stack_name} (region {region}) has container image assets that need Docker to "
        f"build: {names}; no Docker daemon answers ({why}). Run the deploy worker where Docker "
        "runs (DOCKER_HOST and CDK_DOCKER are passed to the publisher), or use file assets.",
    )
