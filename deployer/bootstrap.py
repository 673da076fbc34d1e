"""The CDK bootstrap of a region, as `cdk bootstrap` makes it: the standard `CDKToolkit` stack
(qualifier hnb659fds) with the template the pinned toolkit ships (the `aws-cdk` package in
deployer/toolkit), deployed through the same change-set engine as a rollout of kind
bootstrap, one step per region, audited and logged like any rollout.

Also: whether a region is bootstrapped for what an application's stacks need — the version in
the SSM parameter their synthesizer names, at least the version they require."""

from dataclasses import dataclass
from functools import lru_cache

import yaml
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from lib import aws
from regions.models import RegionState

from .cloudformation import EngineError
from .cloudformation.stacks import UPDATABLE
from .models import Action, Deployment, Rollout, Status
from .toolkit import FOLDER

TOOLKIT_STACK = "CDKToolkit"
QUALIFIER = "hnb659fds"
VERSION_PARAMETER = f"/cdk-bootstrap/{QUALIFIER}/version"
TEMPLATE = FOLDER / "node_modules" / "aws-cdk" / "lib" / "api" / "bootstrap" / (
    "bootstrap-template.yaml")
# What `cdk bootstrap` passes a new stack by default: the bucket encrypted with the AWS managed
# key (no KMS key of its own); every other parameter keeps the template's default.
NEW_STACK_PARAMETERS = {"FileAssetsBucketKmsKeyId": "AWS_MANAGED_KEY"}
# The variant `cdk bootstrap` refuses to overwrite when a stack was customized.
VARIANT = "AWS CDK: Default Resources"


class BootstrapError(EngineError):
    """The region cannot be bootstrapped (or checked) as asked."""


class NotBootstrapped(EngineError):
    """The region lacks the bootstrap version a stack requires."""

    def __init__(self, slug: str, region: str, required: int, found: int | None,
                 parameter: str):
        found_text = "none" if found is None else str(found)
        message = (f"{region} is not bootstrapped for this app (needs version {required}, found "
                   f"{found_text}): press Bootstrap on the region page, or `manage.py bootstrap "
                   f"{slug} --region {region}`")
        if parameter != VERSION_PARAMETER:
            message += (f"; its stacks read {parameter}, the bootstrap of another qualifier, "
                        "which only `cdk bootstrap --qualifier` makes")
        super().__init__(message + ".")
        self.region, self.required, self.found = region, required, found
        # Only the standard bootstrap is deployed by the control plane.
        self.standard = parameter == VERSION_PARAMETER


@lru_cache(maxsize=1)
def toolkit_template() -> dict:
    """The bootstrap template of the pinned toolkit, as JSON."""
    try:
        return yaml.safe_load(TEMPLATE.read_text())
    except OSError:
        raise BootstrapError("The CDK bootstrap template is not installed (the aws-cdk package "
                             "in deployer/toolkit): run `make venv`.") from None


def template_version() -> int:
    """The bootstrap version the pinned template makes."""
    return int(toolkit_template()["Resources"]["CdkBootstrapVersion"]["Properties"]["Value"])


def read_version(application, region: str, parameter: str = VERSION_PARAMETER,
                 **config) -> int | None:
    """The bootstrap version in the region's SSM parameter; None when there is none."""
    ssm = aws.client("ssm", region, application, **config)
    try:
        value = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
    except Exception as exc:  # noqa: BLE001 - every AWS failure becomes an AwsError
        error = aws.AwsError.wrap(exc, service="ssm", region=region)
        if error.code == "ParameterNotFound":
            return None
        raise error from exc
    try:
        return int(value)
    except ValueError:
        return None


def require(d: Deployment) -> None:
    """Check the bootstrap the step's stack requires before anything is published or sent;
    logs one line. Raises NotBootstrapped, or lib.aws.AwsError when SSM cannot be read."""
    needs = d.needs or {}
    required, parameter = needs.get("bootstrap_version") or 0, needs.get("version_parameter")
    region, slug = d.region.code, d.rollout.application.slug
    if not parameter:
        d.log(f"{region}: the stack's synthesizer needs no bootstrap.")
        return
    found = read_version(d.rollout.application, region, parameter)
    if found is None or found < required:
        raise NotBootstrapped(slug, region, required, found, parameter)
    d.log(f"{region} is bootstrapped (version {found}; the stack needs {required}).")


def request(engine) -> tuple[dict, dict]:
    """The template and options of a bootstrap step's change set. A stack that exists keeps
    every parameter it was given (as `cdk bootstrap` does); the version never goes down."""
    d = engine.d
    template, ours = toolkit_template(), template_version()
    found = read_version(d.rollout.application, d.region.code)
    if found is not None and found > ours:
        raise BootstrapError(f"{d.region.code} is bootstrapped at version {found}, newer than "
                             f"the {ours} this control plane deploys; not downgrading it.")
    stack = engine.describe_stack(TOOLKIT_STACK)
    parameters = dict(NEW_STACK_PARAMETERS)
    if stack and stack["StackStatus"] in UPDATABLE | {"UPDATE_ROLLBACK_FAILED"}:
        existing = {p["ParameterKey"]: p.get("ParameterValue", "")
                    for p in stack.get("Parameters") or []}
        variant = existing.get("BootstrapVariant", VARIANT)
        if variant != VARIANT:
            raise BootstrapError(f"The bootstrap stack of {d.region.code} is a customized one "
                                 f"({variant}); update it with the template it came from.")
        parameters = {key: None for key in existing if key in template["Parameters"]}
    d.log(f"Bootstrapping {d.region.code} with the CDK toolkit's template (version {ours}, "
          f"qualifier {QUALIFIER}); found " + ("none" if found is None else f"version {found}")
          + ".")
    return template, {"parameters": parameters}


def bootstrap_regions(rollout: Rollout) -> list:
    """The regions a bootstrap rollout covers: those of the application that stay."""
    regions = rollout.application.regions.exclude(
        state__in=[RegionState.REMOVED, RegionState.REMOVING]).order_by("code")
    if rollout.only_region:
        regions = regions.filter(code=rollout.only_region)
    return list(regions)


def create_step(rollout: Rollout, region, status: str = Status.QUEUED) -> Deployment:
    """A bootstrap step of `rollout` for `region`, numbered after the steps it has."""
    for _ in range(10):
        last = rollout.deployments.aggregate(m=Max("step"))["m"]
        step = 0 if last is None else last + 1
        try:
            with transaction.atomic():
                return Deployment.objects.create(
                    rollout=rollout, region=region, step=step, action=Action.BOOTSTRAP,
                    stack_name=TOOLKIT_STACK, status=status, heartbeat_at=timezone.now())
        except IntegrityError:
            continue  # another step took the number first
    raise EngineError(f"Could not add a bootstrap step to rollout {rollout.pk}.", retryable=True)


@dataclass(frozen=True)
class RegionBootstrap:
    """What the region page says about the region's bootstrap."""

    required: int  # 0: the application's stacks need none (or none was planned yet)
    parameter: str
    found: int | None
    error: str = ""
    needed: bool = True

    @property
    def ok(self) -> bool:
        return not self.error and self.found is not None and self.found >= self.required

    @property
    def text(self) -> str:
        if self.error:
            return f"Unknown: {self.error}"
        if self.found is None:
            return "Not bootstrapped" + (f" (the app needs version {self.required})"
                                         if self.required else "")
        if self.found < self.required:
            return f"Bootstrapped at version {self.found}; the app needs {self.required}"
        return f"Bootstrapped (version {self.found})"


def region_status(region) -> RegionBootstrap:
    """The region's bootstrap against what the newest plan of its stack required."""
    newest = (Deployment.objects.filter(region=region, needs__has_key="version_parameter")
              .exclude(action=Action.BOOTSTRAP).order_by("-pk").values_list("needs", flat=True)
              .first())
    needed = newest is None or bool(newest.get("version_parameter"))
    parameter = (newest or {}).get("version_parameter") or VERSION_PARAMETER
    required = (newest or {}).get("bootstrap_version") or 0
    try:
        # A page waits for this: one attempt, never the worker's patient retries.
        found = read_version(region.application, region.code, parameter,
                             retries={"mode": "standard", "max_attempts": 1})
    except aws.AwsError as exc:
        return RegionBootstrap(required, parameter, None, str(exc), needed)
    return RegionBootstrap(required, parameter, found, "", needed)


def region_bootstrap_context(region) -> dict:
    """Context for templates/deployer/_region_bootstrap.html on the region page."""
    try:
        version = template_version()
    except BootstrapError:
        version = "not installed"
    return {"bootstrap": region_status(region), "bootstrap_version": version}
