"""Reading a cloud assembly: its manifests (nested assemblies included), the one stack of each
region, and merging the stack of a one-region run into the main assembly."""

import json
import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import SynthError

STACK_ARTIFACT = "aws:cloudformation:stack"
NESTED_ASSEMBLY = "cdk:cloud-assembly"
REQUIRED_OUTPUT = "HealthCheckId"


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
class Stack:
    artifact_id: str
    artifact: dict
    stack_name: str
    environment: str
    template_path: Path


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
                Stack(
                    artifact_id=artifact_id,
                    artifact=artifact,
                    stack_name=properties.get("stackName") or artifact_id,
                    environment=artifact.get("environment") or "",
                    template_path=outdir / template_file,
                )
            )
    return found


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


def read_artifact(region: str, stack: Stack) -> StackArtifact:
    template = load_json(
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


def merge(assembly: Path, region: str, stack: Stack) -> Stack:
    """Copy a one-region run's stack into the main assembly, renaming on a name clash."""
    manifest_path = assembly / "manifest.json"
    manifest = load_json(manifest_path, "The cloud assembly's manifest")
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


def check_complete(requested: list[str], found: dict[str, Stack]) -> None:
    missing = [region for region in requested if region not in found]
    if missing:
        produced = ", ".join(sorted(found)) or "none"
        raise SynthError(
            "contract",
            f"The app produced no stack for region {', '.join(missing)} (stacks were produced "
            f"for: {produced}). Every region of the application needs its own stack.",
        )
