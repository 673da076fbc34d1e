"""Validators shared by the models, the forms, the API and the command line.

Each one carries `json_schema`: the same rule as JSON Schema keywords, which the API's schema
shows (a dict, or a function giving one when the rule depends on settings). Patterns must match
the whole value (fullmatch), so a trailing newline never slips through `$`."""

import re
from functools import lru_cache

import botocore.session
from django.conf import settings
from django.core.exceptions import ValidationError

# The services a region must offer for the pattern this product manages.
REQUIRED_SERVICES = ("dynamodb", "apigateway", "cloudformation")
PARTITION = "aws"


@lru_cache(maxsize=1)
def known_regions() -> frozenset[str]:
    """Regions botocore's endpoint data lists for every required service in the aws partition."""
    session = botocore.session.get_session()
    sets = [
        set(session.get_available_regions(service, partition_name=PARTITION))
        for service in REQUIRED_SERVICES
    ]
    return frozenset(set.intersection(*sets))


def _region_schema() -> dict:
    return {"enum": sorted(known_regions())}


def region_choices() -> list[tuple[str, str]]:
    return [(code, code) for code in sorted(known_regions())]


def validate_region_code(value) -> None:
    if not isinstance(value, str) or value not in known_regions():
        shown = value if isinstance(value, str) and len(value) <= 40 else "this value"
        raise ValidationError(
            "%(value)s is not an AWS region that offers DynamoDB, API Gateway and "
            "CloudFormation (for example eu-west-1).",
            code="unknown_region",
            params={"value": repr(shown) if isinstance(shown, str) else shown},
        )


validate_region_code.json_schema = _region_schema


def validate_optional_region_code(value) -> None:
    """A region code, or empty for "the installation's default"."""
    if value != "":
        validate_region_code(value)


validate_optional_region_code.json_schema = lambda: {"enum": ["", *sorted(known_regions())]}


_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


_DOMAIN_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"


def validate_domain_name(value) -> None:
    if not isinstance(value, str) or not value:
        raise ValidationError("Enter a domain name such as api.example.com.", code="invalid")
    name = value[:-1] if value.endswith(".") else value
    if len(name) > 253:
        raise ValidationError("A domain name has 253 characters at most.", code="too_long")
    labels = name.split(".")
    if len(labels) < 2:
        raise ValidationError(
            "Enter a fully qualified domain name with at least two labels, such as "
            "api.example.com.",
            code="invalid",
        )
    for label in labels:
        if not _LABEL.fullmatch(label):
            raise ValidationError(
                "Each label of a domain name has 1 to 63 letters, digits or hyphens and does "
                "not start or end with a hyphen.",
                code="invalid_label",
            )


validate_domain_name.json_schema = {
    "pattern": rf"^(?:{_DOMAIN_LABEL}\.)+{_DOMAIN_LABEL}\.?$", "maxLength": 253}


_ZONE = re.compile(r"^Z[A-Z0-9]{1,31}$")
# The local AWS emulator's zone ids are upper-case letters and digits without the leading Z.
_SANDBOX_ZONE = re.compile(r"^[A-Z0-9]{1,32}$")


def validate_hosted_zone_id(value) -> None:
    pattern = _SANDBOX_ZONE if settings.SANDBOX else _ZONE
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValidationError(
            "A Route 53 hosted zone id is Z followed by upper-case letters and digits, "
            "such as Z0123456789ABCDEFGHIJ.",
            code="invalid",
        )


def _hosted_zone_schema() -> dict:
    return {"pattern": (_SANDBOX_ZONE if settings.SANDBOX else _ZONE).pattern}


validate_hosted_zone_id.json_schema = _hosted_zone_schema


_ACCOUNT = re.compile(r"^[0-9]{12}$")


def validate_account_id(value) -> None:
    if not isinstance(value, str) or not _ACCOUNT.fullmatch(value):
        raise ValidationError("An AWS account id is exactly 12 digits.", code="invalid")


validate_account_id.json_schema = {"pattern": _ACCOUNT.pattern}


_TABLE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


def validate_table_name(value) -> None:
    if not isinstance(value, str) or not _TABLE.fullmatch(value):
        raise ValidationError(
            "A DynamoDB table name has 3 to 255 characters: letters, digits, underscore, "
            "hyphen and dot.",
            code="invalid",
        )


validate_table_name.json_schema = {"pattern": _TABLE.pattern, "minLength": 3}


_ROLE_ARN = re.compile(
    r"^arn:aws(?:-cn|-us-gov)?:iam::[0-9]{12}:role/(?:[\x21-\x7e]{0,510}/)?[\w+=,.@-]{1,64}$"
)


def validate_role_arn(value) -> None:
    if value in ("", None):
        return
    if not isinstance(value, str) or len(value) > 2048 or not _ROLE_ARN.fullmatch(value):
        raise ValidationError(
            "An IAM role ARN looks like arn:aws:iam::123456789012:role/MeridianDeploy.",
            code="invalid",
        )


# Empty means "no role": the pattern allows it.
validate_role_arn.json_schema = {"pattern": "^(?:" + _ROLE_ARN.pattern[1:-1] + ")?$"}


_SLUG = re.compile(r"^[a-z](?:[a-z0-9-]{0,48}[a-z0-9])?$")


def validate_slug(value) -> None:
    if not isinstance(value, str) or not _SLUG.fullmatch(value):
        raise ValidationError(
            "A slug has 1 to 50 lower-case letters, digits or hyphens, starts with a letter "
            "and does not end with a hyphen.",
            code="invalid",
        )


validate_slug.json_schema = {"pattern": _SLUG.pattern, "minLength": 1}


_STAGE = re.compile(r"^[A-Za-z0-9_]{1,128}$")


def validate_stage(value) -> None:
    if not isinstance(value, str) or not _STAGE.fullmatch(value):
        raise ValidationError(
            "An API Gateway stage name has 1 to 128 letters, digits or underscores.",
            code="invalid",
        )


validate_stage.json_schema = {"pattern": _STAGE.pattern, "minLength": 1}


_ALARM_ARN = re.compile(
    r"^arn:aws(?:-cn|-us-gov)?:cloudwatch:([a-z0-9-]+):[0-9]{12}:alarm:[\x20-\x7e]{1,255}$"
)
_ALARM_NAME = re.compile(r"^[\x20-\x7e]{1,255}$")
# CloudFormation takes at most five rollback triggers per change set.
MAX_ALARMS = 5


def alarm_region(alarm: str) -> str:
    """The region of an alarm ARN; empty for a name, which means every region."""
    match = _ALARM_ARN.fullmatch(alarm)
    return match.group(1) if match else ""


def validate_alarms(value) -> None:
    """CloudWatch alarms: an ARN names one region's alarm, a plain name the alarm of that name
    in every region; at most five per region, as CloudFormation's rollback triggers allow."""
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise ValidationError("Alarms are a list of CloudWatch alarm names or ARNs.",
                              code="invalid")
    for alarm in value:
        if alarm.startswith("arn:") and not _ALARM_ARN.fullmatch(alarm):
            raise ValidationError(
                f"{alarm[:80]!r} is not a CloudWatch alarm ARN such as "
                "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:HighErrorRate.", code="invalid")
        if not _ALARM_NAME.fullmatch(alarm):
            raise ValidationError(
                "An alarm name has 1 to 255 printable ASCII characters.", code="invalid")
    if len(set(value)) != len(value):
        raise ValidationError("An alarm is named twice.", code="invalid")
    names = [a for a in value if not alarm_region(a)]
    per_region: dict[str, int] = {}
    for alarm in value:
        if alarm_region(alarm):
            per_region[alarm_region(alarm)] = per_region.get(alarm_region(alarm), 0) + 1
    if len(names) + max(per_region.values(), default=0) > MAX_ALARMS:
        raise ValidationError(
            f"CloudFormation watches at most {MAX_ALARMS} alarms per region: name fewer.",
            code="invalid")


validate_alarms.json_schema = {"type": "array", "items": {"type": "string", "maxLength": 400}}
