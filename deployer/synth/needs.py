"""What a synthesized stack needs before CloudFormation can deploy it: its assets (Lambda code,
nested stack templates, the template itself, container images) with their destinations per
region, the bootstrap resources the default synthesizer expects, and its nested stacks.

Read from the cloud assembly as the CDK toolkit reads it: the stack artifact's properties
(`assumeRoleArn`, `cloudFormationExecutionRoleArn`, `stackTemplateAssetObjectUrl`,
`requiresBootstrapStackVersion`, `bootstrapStackVersionSsmParameter`), the `cdk:asset-manifest`
artifacts it depends on (`*.assets.json`: `files` and `dockerImages`, each with destinations),
and the `AWS::CloudFormation::Stack` resources whose `TemplateURL` names a file asset."""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SynthError

ASSET_MANIFEST = "cdk:asset-manifest"
NESTED_STACK = "AWS::CloudFormation::Stack"
# CloudFormation takes a TemplateBody up to this size; larger templates go by TemplateURL.
TEMPLATE_BODY_LIMIT = 51_200
_PLACEHOLDER = re.compile(r"\$\{AWS::(Partition|AccountId|Region)\}")
_PARTITIONS = (("cn-", "aws-cn", "amazonaws.com.cn"), ("us-gov-", "aws-us-gov", "amazonaws.com"),
               ("us-isob-", "aws-iso-b", "sc2s.sgov.gov"), ("us-iso-", "aws-iso", "c2s.ic.gov"))


def partition(region: str) -> tuple[str, str]:
    """The partition of a region and its domain suffix."""
    for prefix, name, suffix in _PARTITIONS:
        if region.startswith(prefix):
            return name, suffix
    return "aws", "amazonaws.com"


def resolve(value: str, account: str, region: str) -> str:
    """Fill in the `${AWS::…}` placeholders the synthesizer leaves for the deploying tool."""
    values = {"Partition": partition(region)[0], "AccountId": account, "Region": region}
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], value or "")


@dataclass(frozen=True)
class Destination:
    """Where one asset goes: an S3 object (files) or an ECR image tag (container images)."""

    id: str
    region: str
    role_arn: str  # the publishing role to assume, placeholders filled in
    external_id: str
    location: str  # bucket name or repository name
    name: str  # object key or image tag

    def url(self, kind: str) -> str:
        return f"s3://{self.location}/{self.name}" if kind == "file" else (
            f"{self.location}:{self.name}")


@dataclass(frozen=True)
class Asset:
    id: str
    kind: str  # "file" or "image"
    display_name: str
    source: str  # a path relative to the asset manifest, or the command that makes the asset
    packaging: str  # files: "file" or "zip"; images: the Dockerfile
    destinations: tuple[Destination, ...]
    manifest: Path | None = None  # the asset manifest that lists it

    def urls(self, region: str) -> list[str]:
        return [d.url(self.kind) for d in self.destinations if d.region == region]


@dataclass(frozen=True)
class Bootstrap:
    """The bootstrap resources (`cdk bootstrap`) a stack of the default synthesizer expects."""

    required_version: int
    version_parameter: str  # the SSM parameter holding the bootstrap stack's version
    deploy_role_arn: str
    execution_role_arn: str
    lookup_role_arn: str
    template_url: str  # s3:// URL the template itself is published to, if any

    def template_https_url(self, region: str) -> str:
        """The template's URL as CloudFormation takes it (TemplateURL)."""
        if not self.template_url.startswith("s3://"):
            return self.template_url
        bucket, _, key = self.template_url.removeprefix("s3://").partition("/")
        return f"https://s3.{region}.{partition(region)[1]}/{bucket}/{key}"


@dataclass(frozen=True)
class NestedStack:
    path: str  # logical ids from the top stack down, joined by "/"
    template_path: Path | None  # None when its TemplateURL names no asset of this assembly
    template_url: str
    asset_id: str


@dataclass(frozen=True)
class StackNeeds:
    asset_manifests: tuple[Path, ...] = ()
    assets: tuple[Asset, ...] = ()
    bootstrap: Bootstrap | None = None
    nested: tuple[NestedStack, ...] = ()
    parameters: dict = field(default_factory=dict)
    tags: dict = field(default_factory=dict)

    @property
    def files(self) -> list[Asset]:
        return [asset for asset in self.assets if asset.kind == "file"]

    @property
    def images(self) -> list[Asset]:
        return [asset for asset in self.assets if asset.kind == "image"]

    def in_region(self, region: str) -> list[tuple[Asset, Destination]]:
        return [(asset, d) for asset in self.assets for d in asset.destinations
                if d.region == region]

    def summary(self, region: str) -> dict:
        """What a deployment keeps of these needs: small, as JSON."""
        b = self.bootstrap
        return {
            "bootstrap_version": b.required_version if b else 0,
            "version_parameter": b.version_parameter if b else "",
            "template_url": b.template_https_url(region) if b and b.template_url else "",
            "execution_role": b.execution_role_arn if b else "",
            "assets": len(self.in_region(region)),
            "nested": [n.path for n in self.nested],
        }


def read_needs(stack_name: str, region: str, account: str, directory: Path, artifact: dict,
               manifest_artifacts: dict, template: dict) -> StackNeeds:
    """Everything the stack needs besides its template, from the manifest it sits in."""
    where = f"Stack {stack_name} (region {region})"
    properties = artifact.get("properties") or {}
    _refuse_legacy_assets(where, directory, artifact)
    manifests, assets, versions, parameters = [], [], [], []
    for dependency in _dependencies(artifact):
        entry = manifest_artifacts.get(dependency) or {}
        if entry.get("type") != ASSET_MANIFEST:
            continue
        props = entry.get("properties") or {}
        if not props.get("file"):
            raise SynthError("contract", f"{where}: asset manifest {dependency} names no file.")
        path = directory / props["file"]
        manifests.append(path)
        assets += _read_assets(where, path, account, region)
        versions.append(props.get("requiresBootstrapStackVersion") or 0)
        parameters.append(props.get("bootstrapStackVersionSsmParameter") or "")
    bootstrap = _bootstrap(properties, template, account, region, versions, parameters)
    by_key = {d.name: (asset, path) for asset, path in _file_sources(assets)
              for d in asset.destinations}
    if bootstrap and bootstrap.template_url:
        if _published_at(bootstrap.template_url, by_key) is None:
            raise SynthError(
                "contract",
                f"{where} expects its template at {bootstrap.template_url}, but no asset "
                "manifest of the assembly publishes it.",
            )
    return StackNeeds(
        asset_manifests=tuple(manifests),
        assets=tuple(assets),
        bootstrap=bootstrap,
        nested=tuple(_nested_stacks(where, template, by_key, "")),
        parameters=dict(properties.get("parameters") or {}),
        tags=dict(properties.get("tags") or {}),
    )


def _dependencies(artifact: dict) -> list[str]:
    found = list(artifact.get("dependencies") or [])
    found += (artifact.get("properties") or {}).get("additionalDependencies") or []
    return list(dict.fromkeys(found))


def _refuse_legacy_assets(where: str, directory: Path, artifact: dict) -> None:
    """Assets passed as template parameters (the legacy synthesizer) cannot be published."""
    metadata = dict(artifact.get("metadata") or {})
    extra = artifact.get("additionalMetadataFile")
    if extra and (directory / extra).is_file():
        try:
            metadata.update(json.loads((directory / extra).read_text()))
        except (OSError, ValueError):
            pass
    legacy = [entry.get("data", {}).get("path", path)
              for path, entries in metadata.items() for entry in entries or []
              if isinstance(entry, dict) and entry.get("type") == "aws:cdk:asset"]
    if legacy:
        raise SynthError(
            "contract",
            f"{where} passes assets as template parameters (the legacy synthesizer): "
            f"{', '.join(sorted(map(str, legacy)))}. Use the default synthesizer "
            "(DefaultStackSynthesizer), whose asset manifest the control plane publishes.",
        )


def _read_assets(where: str, path: Path, account: str, region: str) -> list[Asset]:
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SynthError("contract", f"{where}: its asset manifest {path.name} cannot be read: "
                         f"{exc}.") from None
    assets = []
    for kind, section in (("file", "files"), ("image", "dockerImages")):
        for asset_id, entry in (manifest.get(section) or {}).items():
            source = entry.get("source") or {}
            if source.get("executable"):
                origin = " ".join(source["executable"])
            else:
                origin = source.get("path" if kind == "file" else "directory") or ""
                if not origin or not (path.parent / origin).exists():
                    raise SynthError(
                        "contract",
                        f"{where}: asset {entry.get('displayName') or asset_id} names "
                        f"{origin or 'no source'}, which is not in the cloud assembly.",
                    )
            destinations = tuple(
                Destination(
                    id=dest_id,
                    region=dest.get("region") or region,
                    role_arn=resolve(dest.get("assumeRoleArn", ""), account, region),
                    external_id=dest.get("assumeRoleExternalId", ""),
                    location=resolve(dest.get("bucketName") or dest.get("repositoryName", ""),
                                     account, region),
                    name=resolve(dest.get("objectKey") or dest.get("imageTag", ""),
                                 account, region),
                )
                for dest_id, dest in (entry.get("destinations") or {}).items()
            )
            packaging = (source.get("packaging") or "file") if kind == "file" else (
                source.get("dockerFile") or "Dockerfile")
            assets.append(Asset(asset_id, kind, entry.get("displayName") or asset_id, origin,
                                packaging, destinations, path))
    return assets


def _file_sources(assets: list[Asset]):
    """Each file asset with the file it uploads (for templates: a nested stack's)."""
    for asset in assets:
        if asset.kind == "file" and asset.packaging == "file":
            path = asset.manifest.parent / asset.source
            if path.is_file():
                yield asset, path


def _bootstrap(properties: dict, template: dict, account: str, region: str, versions: list,
               parameters: list) -> Bootstrap | None:
    check = (template.get("Parameters") or {}).get("BootstrapVersion") or {}
    required = max([properties.get("requiresBootstrapStackVersion") or 0, *versions])
    parameter = (properties.get("bootstrapStackVersionSsmParameter")
                 or next(filter(None, parameters), "") or check.get("Default", ""))
    roles = {name: resolve(properties.get(name, ""), account, region)
             for name in ("assumeRoleArn", "cloudFormationExecutionRoleArn")}
    lookup = resolve((properties.get("lookupRole") or {}).get("arn", ""), account, region)
    url = resolve(properties.get("stackTemplateAssetObjectUrl", ""), account, region)
    if not (required or parameter or any(roles.values()) or url):
        return None
    return Bootstrap(required, parameter, roles["assumeRoleArn"],
                     roles["cloudFormationExecutionRoleArn"], lookup, url)


def _flatten(value) -> str:
    """A TemplateURL as text: the literal parts of an Fn::Join, references as `?`."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_flatten(part) for part in parts)
    if isinstance(value, dict) and "Fn::Sub" in value:
        return value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
    return "?"


def _published_at(url: str, by_key: dict):
    """The file asset an S3 or HTTPS URL points at, by its object key."""
    for key, found in by_key.items():
        if url == key or url.endswith("/" + key):
            return found
    return None


def _nested_stacks(where: str, template: dict, by_key: dict, parent: str):
    for logical_id, resource in (template.get("Resources") or {}).items():
        if not isinstance(resource, dict) or resource.get("Type") != NESTED_STACK:
            continue
        path = f"{parent}/{logical_id}" if parent else logical_id
        url = _flatten((resource.get("Properties") or {}).get("TemplateURL", ""))
        found = _published_at(url, by_key)
        if found is None:
            # A template somebody else publishes (a literal URL): deployed as it is.
            yield NestedStack(path, None, url, "")
            continue
        asset, file = found
        try:
            nested = json.loads(file.read_text())
        except (OSError, ValueError) as exc:
            raise SynthError("contract", f"{where}: the template of nested stack {path} cannot "
                             f"be read: {exc}.") from None
        yield NestedStack(path, file, url, asset.id)
        yield from _nested_stacks(where, nested, by_key, path)
