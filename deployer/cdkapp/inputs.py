"""The app contract's inputs: read from CDK context first, then from the environment, and checked."""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

# Context key -> environment variables that may carry it, in order of preference.
ENV_VARS = {
    "region": ("AWS_REGION", "CDK_DEFAULT_REGION", "AWS_DEFAULT_REGION"),
    "regions": ("REGIONS",),
    "main_region": ("MAIN_REGION",),
    "replica_regions": ("REPLICATION_REGIONS",),
    "domain_name": ("DOMAIN_NAME",),
    "hosted_zone_id": ("HOSTED_ZONE_ID",),
    "table_name": ("TABLE_NAME",),
    "account": ("CDK_DEFAULT_ACCOUNT",),
    "app_name": ("APP_NAME",),
    "stage": ("STAGE",),
    "health_check_interval": ("HEALTH_CHECK_INTERVAL",),
    "failure_threshold": ("FAILURE_THRESHOLD",),
    "release": ("RELEASE",),
    "replica_steps": ("REPLICA_STEPS",),
    "drained_regions": ("DRAINED_REGIONS",),
    "forced_regions": ("FORCED_REGIONS",),
    "control_region": ("CONTROL_REGION",),
}
CONTEXT_KEYS = (*ENV_VARS, "nag")

REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
ACCOUNT_RE = re.compile(r"^\d{12}$")
ZONE_ID_RE = re.compile(r"^[A-Z0-9]{1,32}$")
LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
TABLE_RE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
APP_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,99}$")
STAGE_RE = re.compile(r"^[A-Za-z0-9_]{1,128}$")


class InputError(ValueError):
    """An input is missing or invalid; the message is one line meant for the operator."""


@dataclass(frozen=True)
class Inputs:
    app_name: str
    stage: str
    account: str
    regions: tuple[str, ...]
    main_region: str
    replica_regions: tuple[str, ...]
    domain_name: str
    hosted_zone_id: str
    table_name: str
    health_check_interval: int
    failure_threshold: int
    release: str
    nag: bool
    # The replicas of each replica step whose main stack this run also writes (a Stage each).
    replica_steps: tuple[tuple[str, ...], ...] = ()
    # Traffic (docs/region-switch.md): regions drained or forced serving, and where the drain
    # alarms of the routing health checks live.
    drained_regions: tuple[str, ...] = ()
    forced_regions: tuple[str, ...] = ()
    control_region: str = "us-west-2"

    @property
    def zone_name(self) -> str:
        """Name of the hosted zone: the domain's parent, or the domain itself when it is an apex.

        Records and the certificate are written with fully qualified names and the zone id, so
        the template is the same whichever of the two the zone really is.
        """
        labels = self.domain_name.split(".")
        return ".".join(labels[1:]) if len(labels) > 2 else self.domain_name

    def traffic(self, region: str) -> str:
        if region in self.drained_regions:
            return "drained"
        return "forced" if region in self.forced_regions else "serving"

    def drain_alarm(self, region: str) -> str:
        """The drain alarm Meridian keeps in the control region for this region."""
        return f"meridian-{self.app_name}-{region}-drain"

    def stack_name(self, region: str) -> str:
        return f"{self.app_name}-{region}"

    def step(self, replicas: tuple[str, ...]) -> "Inputs":
        """The inputs of one replica step: the main region alone with the step's replicas."""
        return replace(self, regions=(self.main_region,), replica_regions=replicas,
                       replica_steps=())


def raw_value(key: str, context: Mapping, environ: Mapping) -> object:
    value = context.get(key)
    if value is not None and value != "":
        return value
    for var in ENV_VARS.get(key, ()):
        if environ.get(var):
            return environ[var]
    return None


def as_list(key: str, value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list | tuple):
        items = value
    else:
        raise InputError(f"{key} must be a comma-separated string or a list, not {value!r}")
    return [str(item).strip() for item in items if str(item).strip()]


def as_int(key: str, value: object, default: int, allowed: range | tuple) -> int:
    if value is None:
        return default
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InputError(f"{key} must be a whole number, not {value!r}") from None
    if number not in allowed:
        raise InputError(f"{key} must be one of {list(allowed)}, not {number}")
    return number


def as_bool(key: str, value: object) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise InputError(f"{key} must be true or false, not {value!r}")


def as_steps(value: object, main_region: str) -> tuple[tuple[str, ...], ...]:
    """replica_steps: a list of replica lists, as a JSON text in the environment."""
    if value is None:
        return ()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise InputError(f"replica_steps must be a JSON list of region lists, not {value!r}") from None
    if not isinstance(value, list | tuple):
        raise InputError(f"replica_steps must be a list of region lists, not {value!r}")
    steps = []
    for step in value:
        replicas = [check_region("replica_steps", r) for r in as_list("replica_steps", step)]
        if main_region in replicas:
            raise InputError(f"replica_steps must not contain the main region {main_region}")
        steps.append(tuple(replicas))
    return tuple(steps)


def required(key: str, value: object) -> str:
    if value is None or not str(value).strip():
        vars_ = " or ".join(ENV_VARS.get(key, ()))
        hint = f" (context key {key!r} or env {vars_})" if vars_ else f" (context key {key!r})"
        raise InputError(f"missing input {key}{hint}")
    return str(value).strip()


def check_region(key: str, region: str) -> str:
    if not REGION_RE.match(region):
        raise InputError(f"{key}: {region!r} is not an AWS region name like us-east-1")
    return region


def check_domain(domain: str) -> str:
    domain = domain.rstrip(".").lower()
    labels = domain.split(".")
    if len(domain) > 253 or len(labels) < 2 or not all(LABEL_RE.match(x) for x in labels):
        raise InputError(f"domain_name: {domain!r} is not a domain name like api.example.com")
    return domain


def read_inputs(context: Mapping, environ: Mapping) -> Inputs:
    """Inputs of one synth; raises InputError naming the first bad input."""
    def get(key: str) -> object:
        return raw_value(key, context, environ)

    main_region = check_region("main_region", required("main_region", get("main_region")))
    regions = [check_region("regions", r) for r in as_list("regions", get("regions"))]
    if regions:
        if main_region not in regions:
            raise InputError(f"main_region {main_region} is not among regions {','.join(regions)}")
    else:
        regions = [check_region("region", required("region", get("region")))]
    if len(set(regions)) != len(regions):
        raise InputError(f"regions lists a region twice: {','.join(regions)}")

    replicas = [check_region("replica_regions", r) for r in as_list("replica_regions", get("replica_regions"))]
    if main_region in replicas:
        raise InputError(f"replica_regions must not contain the main region {main_region}")
    if len(set(replicas)) != len(replicas):
        raise InputError(f"replica_regions lists a region twice: {','.join(replicas)}")

    account = required("account", get("account"))
    if not ACCOUNT_RE.match(account):
        raise InputError(f"account: {account!r} is not a 12-digit AWS account id")
    zone_id = required("hosted_zone_id", get("hosted_zone_id")).removeprefix("/hostedzone/")
    if not ZONE_ID_RE.match(zone_id):
        raise InputError(f"hosted_zone_id: {zone_id!r} is not a Route 53 hosted zone id")
    table_name = required("table_name", get("table_name"))
    if not TABLE_RE.match(table_name):
        raise InputError(f"table_name: {table_name!r} is not a DynamoDB table name")
    app_name = str(get("app_name") or "meridian").strip()
    if not APP_NAME_RE.match(app_name):
        raise InputError(f"app_name: {app_name!r} must start with a letter and hold only letters, digits and -")
    stage = str(get("stage") or "prod").strip()
    if not STAGE_RE.match(stage):
        raise InputError(f"stage: {stage!r} must hold only letters, digits and _")
    drained = [check_region("drained_regions", r) for r in as_list("drained_regions", get("drained_regions"))]
    forced = [check_region("forced_regions", r) for r in as_list("forced_regions", get("forced_regions"))]
    if set(drained) & set(forced):
        raise InputError(f"a region cannot be both drained and forced: {','.join(sorted(set(drained) & set(forced)))}")
    control_region = check_region("control_region", str(get("control_region") or "us-west-2").strip())
    release = str(get("release") or "1").strip()
    if len(release) > 1000:
        raise InputError("release must be at most 1000 characters")

    return Inputs(
        app_name=app_name,
        stage=stage,
        account=account,
        regions=tuple(regions),
        main_region=main_region,
        replica_regions=tuple(replicas),
        domain_name=check_domain(required("domain_name", get("domain_name"))),
        hosted_zone_id=zone_id,
        table_name=table_name,
        health_check_interval=as_int("health_check_interval", get("health_check_interval"), 30, (10, 30)),
        failure_threshold=as_int("failure_threshold", get("failure_threshold"), 3, range(1, 11)),
        release=release,
        nag=as_bool("nag", get("nag")),
        replica_steps=as_steps(get("replica_steps"), main_region),
        drained_regions=tuple(drained),
        forced_regions=tuple(forced),
        control_region=control_region,
    )
