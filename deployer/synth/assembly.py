"""Reading a cloud assembly: its manifests (nested assemblies included), the one stack of each
region with what it needs (synth.needs), and adding a one-region run's assembly, whole, to the
main assembly as a nested assembly."""

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .errors import SynthError
from .needs import TEMPLATE_BODY_LIMIT, StackNeeds, read_needs

STACK_ARTIFACT = "aws:cloudformation:stack"
NESTED_ASSEMBLY = "cdk:cloud-assembly"
# The nested assembly an app writes for the replica step at this index of `replica_steps`.
STEP_ASSEMBLY = "assembly-replica-step-{}"


@dataclass(frozen=True)
class StackArtifact:
    region: str
    stack_name: str
    template: dict
    template_path: Path
    environment: str
    outputs: list[str]
    # What the stack needs besides its template: assets, bootstrap, nested stacks.
    needs: StackNeeds = StackNeeds()
    template_bytes: int = 0

    @property
    def resource_count(self) -> int:
        return len(self.template.get("Resources") or {})

    @property
    def needs_template_url(self) -> bool:
        """Too large for TemplateBody: CloudFormation must fetch the template from S3."""
        return self.template_bytes > TEMPLATE_BODY_LIMIT


@dataclass(frozen=True)
class Stack:
    artifact_id: str
    artifact: dict
    stack_name: str
    environment: str
    template_path: Path
    directory: Path | None = None  # the folder of the manifest that lists the stack
    manifest_artifacts: dict | None = None  # every artifact of that manifest


def load_json(path: Path, what: str) -> dict:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise SynthError("contract", f"{what} is missing ({path.name}).") from None
    except (OSError, ValueError) as exc:
        raise SynthError("contract", f"{what} cannot be read: {exc}.") from None
    if not isinstance(data, dict):
        raise SynthError("contract", f"{what} is not a JSON object.")
    return data


def _stacks_in(outdir: Path) -> list[Stack]:
    manifest = load_json(
        outdir / "manifest.json",
        "The app wrote no cloud assembly to CDK_OUTDIR: its manifest",
    )
    _refuse_missing_context(manifest)
    artifacts = manifest.get("artifacts") or {}
    found = []
    for artifact_id, artifact in artifacts.items():
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
                Stack(
                    artifact_id=artifact_id,
                    artifact=artifact,
                    stack_name=properties.get("stackName") or artifact_id,
                    environment=artifact.get("environment") or "",
                    template_path=outdir / template_file,
                    directory=outdir,
                    manifest_artifacts=artifacts,
                )
            )
    return found


def _refuse_missing_context(manifest: dict) -> None:
    """Lookups the app could not make leave dummy values in its templates: never deploy those."""
    missing = manifest.get("missing") or []
    if missing:
        keys = ", ".join(sorted({str(entry.get("key", "?")) for entry in missing}))
        raise SynthError(
            "contract",
            f"The app needs context lookups that a synth without AWS access cannot make "
            f"({keys}). Pass those values as inputs or commit them to cdk.context.json.",
        )


def stacks_at(outdir: Path) -> dict[tuple[Path, str], Stack]:
    """Every stack of the assembly by its manifest's folder and artifact id."""
    return {(stack.directory, stack.artifact_id): stack for stack in _stacks_in(outdir)}


def _stack_region(stack: Stack, requested: list[str]) -> str | None:
    parts = stack.environment.removeprefix("aws://").split("/")
    if len(parts) == 2 and parts[1] and not parts[1].startswith("unknown-"):
        return parts[1]
    # An environment-agnostic stack: the region is whatever its name says.
    names = (stack.stack_name, stack.artifact_id, stack.template_path.name)
    named = [code for code in requested if any(code in name for name in names)]
    return max(named, key=len) if named else None


def stacks_by_region(outdir: Path, requested: list[str], run_region: str) -> dict[str, Stack]:
    stacks = _stacks_in(outdir)
    by_region: dict[str, list[Stack]] = {}
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


def read_artifact(region: str, stack: Stack, account: str) -> StackArtifact:
    """The stack's template and needs; `account` stands in for an environment-agnostic one."""
    template = load_json(
        stack.template_path, f"The template of stack {stack.stack_name} (region {region})"
    )
    parts = stack.environment.removeprefix("aws://").split("/")
    if parts[0] and not parts[0].startswith("unknown-"):
        account = parts[0]
    directory = stack.directory or stack.template_path.parent
    needs = read_needs(stack.stack_name, region, account, directory, stack.artifact,
                       stack.manifest_artifacts or {}, template)
    return StackArtifact(
        region=region,
        stack_name=stack.stack_name,
        template=template,
        template_path=stack.template_path,
        environment=stack.environment,
        outputs=list((template.get("Outputs") or {}).keys()),
        needs=needs,
        template_bytes=stack.template_path.stat().st_size,
    )


def merge(assembly: Path, region: str, run_outdir: Path) -> Path:
    """Add a one-region run's assembly, whole (assets, nested templates), to the main assembly
    as a nested assembly, as CDK writes a Stage; returns its folder."""
    manifest_path = assembly / "manifest.json"
    manifest = load_json(manifest_path, "The cloud assembly's manifest")
    artifacts = manifest.setdefault("artifacts", {})
    name, n = f"assembly-{region}", 1
    while name in artifacts or (assembly / name).exists():
        n += 1
        name = f"assembly-{region}-{n}"
    os.rename(run_outdir, assembly / name)
    artifacts[name] = {
        "type": NESTED_ASSEMBLY,
        "properties": {"directoryName": name, "displayName": region},
    }
    staged = manifest_path.with_suffix(".json.tmp")
    staged.write_text(json.dumps(manifest, indent=2))
    os.replace(staged, manifest_path)
    return assembly / name


def detach_steps(assembly: Path, count: int, into: Path) -> dict[int, Path]:
    """Move each replica step's nested assembly out of the main one, into `into/<index>`, and
    drop it from the main manifest; the steps the app did not write are absent."""
    manifest_path = assembly / "manifest.json"
    if not count or not manifest_path.is_file():
        return {}  # reading the stacks reports a missing manifest
    manifest = load_json(manifest_path, "The cloud assembly's manifest")
    artifacts = manifest.get("artifacts") or {}
    taken: dict[int, Path] = {}
    for index in range(count):
        artifact = artifacts.get(STEP_ASSEMBLY.format(index))
        if not isinstance(artifact, dict) or artifact.get("type") != NESTED_ASSEMBLY:
            continue
        directory = str((artifact.get("properties") or {}).get("directoryName") or "")
        if not directory or Path(directory).name != directory or not (assembly / directory).is_dir():
            raise SynthError("contract", f"Replica step {index}'s nested assembly names no folder "
                             "of the cloud assembly.")
        into.mkdir(parents=True, exist_ok=True)
        os.rename(assembly / directory, into / str(index))
        del artifacts[STEP_ASSEMBLY.format(index)]
        taken[index] = into / str(index)
    if taken:
        staged = manifest_path.with_suffix(".json.tmp")
        staged.write_text(json.dumps(manifest, indent=2))
        os.replace(staged, manifest_path)
    return taken


def link_assets(source: Path, assembly: Path) -> None:
    """Hard links to the assets staged at the top of `source`: the cache keeps them once."""
    for asset in source.glob("asset.*"):
        if asset.is_dir():
            shutil.copytree(asset, assembly / asset.name, copy_function=_link)
        else:
            _link(asset, assembly / asset.name)


def _link(source, target) -> None:
    try:
        os.link(source, target)
    except OSError:  # a file system without hard links: a copy
        shutil.copy2(source, target)


def nest(assembly: Path, folder: str) -> None:
    """A manifest at the top of `assembly` whose one artifact is the assembly in `folder`."""
    inner = load_json(assembly / folder / "manifest.json", "The replica step's manifest")
    manifest = {
        "version": inner.get("version", ""),
        "artifacts": {folder: {"type": NESTED_ASSEMBLY, "properties": {"directoryName": folder}}},
    }
    (assembly / "manifest.json").write_text(json.dumps(manifest, indent=2))


def check_complete(requested: list[str], found: dict[str, Stack]) -> None:
    missing = [region for region in requested if region not in found]
    if missing:
        produced = ", ".join(sorted(found)) or "none"
        raise SynthError(
            "contract",
            f"The app produced no stack for region {', '.join(missing)} (stacks were produced "
            f"for: {produced}). Every region of the application needs its own stack.",
        )
