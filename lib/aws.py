"""The one door to AWS: sessions and clients for an application, with explicit timeouts,
adaptive retries, the application's role (STS AssumeRole) and AWS_ENDPOINT_URL honoured.

Every AWS error that reaches callers is an AwsError that says whether retrying can help."""

import ast
import json
import re
import threading
import time
from dataclasses import dataclass

import boto3
import botocore.exceptions
import botocore.parsers
from botocore.config import Config
from django.conf import settings

RETRYABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "PriorRequestNotComplete",
        "ProvisionedThroughputExceededException",
        "RequestThrottled",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalError",
    }
)
CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "AccessDenied",
        "AccessDeniedException",
        "SignatureDoesNotMatch",
    }
)


# How the operator reads a service's name in a sentence.
SERVICE_NAMES = {
    "acm": "ACM", "apigateway": "API Gateway", "cloudformation": "CloudFormation",
    "cloudwatch": "CloudWatch", "dynamodb": "DynamoDB", "ec2": "EC2", "lambda": "Lambda",
    "route53": "Route 53", "s3": "S3", "ssm": "SSM", "sts": "STS",
}
# botocore quotes the body it could not parse as a bytes literal at the end of its message.
_QUOTED_BODY = re.compile(r"""b(['"]).*\1\s*$""", re.S)


class AwsError(Exception):
    """An AWS call failed. `retryable` says whether trying again later can help.

    str() is one sentence for the operator: service, region, code, AWS's message and what to
    do; `message` is AWS's own words."""

    def __init__(self, message: str, *, code: str = "", retryable: bool = False, service: str = "",
                 region: str = "", hint: str = ""):
        self.message = message
        self.code = code
        self.retryable = retryable
        self.service = service
        self.region = region
        self.hint = hint or _hint(code, retryable)
        super().__init__(self.sentence())

    def sentence(self) -> str:
        name = SERVICE_NAMES.get(self.service, self.service)
        where = f"{name} in {self.region}" if name and self.region else (name or self.region
                                                                        or "AWS")
        said = self.message.strip().rstrip(".")
        if self.code and not said.startswith(self.code):
            said = f"{self.code}: {said}" if said else self.code
        return f"{where}: {said}. {self.hint}"

    @classmethod
    def wrap(cls, exc: Exception, *, service: str = "", region: str = "") -> "AwsError":
        if isinstance(exc, AwsError):
            return exc
        where = {"service": service, "region": region}
        if isinstance(exc, botocore.exceptions.ClientError):
            error = exc.response.get("Error", {})
            code = error.get("Code", "")
            message = error.get("Message", "") or str(exc)
            return cls(message, code=code, retryable=code in RETRYABLE_CODES, **where)
        if isinstance(exc, botocore.parsers.ResponseParserError):
            found = error_in_answer(str(exc))
            if found:
                code, message = found
                return cls(message, code=code, retryable=code in RETRYABLE_CODES, **where)
            return cls("its answer could not be read", code="UnreadableAnswer",
                       hint="Check that AWS_ENDPOINT_URL points at an AWS-compatible endpoint.",
                       **where)
        if isinstance(exc, (botocore.exceptions.NoCredentialsError,
                            botocore.exceptions.PartialCredentialsError)):
            return cls("no AWS credentials are configured", code="NoCredentials", **where)
        if isinstance(exc, (botocore.exceptions.EndpointConnectionError,
                            botocore.exceptions.ConnectTimeoutError,
                            botocore.exceptions.ReadTimeoutError,
                            botocore.exceptions.ConnectionClosedError)):
            return cls(f"cannot reach the endpoint ({exc})", code="Unreachable", retryable=True,
                       **where)
        return cls(str(exc) or type(exc).__name__, code=type(exc).__name__, **where)

    @property
    def is_credentials_problem(self) -> bool:
        return self.code in CREDENTIAL_CODES or self.code == "NoCredentials"


def error_in_answer(text: str) -> tuple[str, str] | None:
    """(code, message) of the AWS error inside an answer botocore could not parse: a JSON body
    (`__type`, `message`) where XML was expected, or an XML one (`<Code>`, `<Message>`)."""
    body = text
    quoted = _QUOTED_BODY.search(text)
    if quoted:
        try:
            body = ast.literal_eval(quoted.group(0).strip()).decode("utf-8", "replace")
        except (ValueError, SyntaxError):
            body = quoted.group(0)[2:-1]
    start, end = body.find("{"), body.rfind("}")
    if 0 <= start < end:
        try:
            data = json.loads(body[start:end + 1])
        except ValueError:
            data = None
        if isinstance(data, dict):
            kind = str(data.get("__type") or data.get("code") or data.get("Code") or "")
            message = str(data.get("message") or data.get("Message") or "")
            if kind or message:
                # "com.amazonaws.dynamodb.v20120810#ResourceInUseException" or "Code:uri"
                return kind.rsplit("#", 1)[-1].split(":", 1)[0], message
    code = re.search(r"<Code>([^<]+)</Code>", body)
    if code:
        message = re.search(r"<Message>([^<]*)</Message>", body)
        return code.group(1), message.group(1) if message else ""
    return None


def _hint(code: str, retryable: bool) -> str:
    """What the operator can do about an error with this code."""
    if code == "NoCredentials":
        return "Configure AWS credentials for the control plane."
    if code in CREDENTIAL_CODES:
        return ("Check the control plane's AWS credentials and the permissions of the "
                "application's role.")
    if code == "Unreachable":
        endpoint = settings.AWS_ENDPOINT_URL
        return (f"Check that {endpoint} is running and reachable." if endpoint else
                "Check the control plane's network access to AWS.")
    if retryable:
        return "This is usually temporary: try again in a minute."
    return "Trying again will not help until the cause is fixed."


def client_config(**overrides) -> Config:
    values = {
        "connect_timeout": settings.AWS_CONNECT_TIMEOUT,
        "read_timeout": settings.AWS_READ_TIMEOUT,
        "retries": {"mode": "adaptive", "max_attempts": settings.AWS_MAX_ATTEMPTS},
    }
    values.update(overrides)
    return Config(**values)


@dataclass
class _Assumed:
    credentials: dict
    expires_at: float


_assumed: dict[str, _Assumed] = {}
_assumed_lock = threading.Lock()
# Refresh assumed credentials this long before they expire.
_REFRESH_MARGIN = 300


# A boto3 session loads the service models anew (~70 ms a client here, against ~5 ms from a
# warm one); sessions are not safe to share between threads, so each thread keeps its own.
_local = threading.local()


def _base_session() -> boto3.session.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = boto3.session.Session()
    return session


def _assumed_session(credentials: dict) -> boto3.session.Session:
    sessions = getattr(_local, "assumed", None)
    if sessions is None:
        sessions = _local.assumed = {}
    key = credentials["aws_access_key_id"]
    session = sessions.get(key)
    if session is None:
        if len(sessions) >= 32:
            sessions.clear()  # refreshed credentials leave old entries behind; keep it bounded
        session = sessions[key] = boto3.session.Session(**credentials)
    return session


def endpoint_url() -> str | None:
    return settings.AWS_ENDPOINT_URL or None


def _assume(role_arn: str, session_name: str) -> dict:
    with _assumed_lock:
        cached = _assumed.get(role_arn)
        if cached and cached.expires_at - _REFRESH_MARGIN > time.time():
            return cached.credentials
    sts = _base_session().client(
        "sts", region_name=settings.AWS_DEFAULT_REGION, endpoint_url=endpoint_url(),
        config=client_config(),
    )
    try:
        answer = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name[:64])
    except Exception as exc:
        raise AwsError.wrap(exc, service="sts", region=settings.AWS_DEFAULT_REGION) from exc
    creds = answer["Credentials"]
    credentials = {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"],
    }
    expires = creds["Expiration"].timestamp() if hasattr(creds["Expiration"], "timestamp") else (
        time.time() + 3600)
    with _assumed_lock:
        _assumed[role_arn] = _Assumed(credentials, expires)
    return credentials


def session_for(application=None) -> boto3.session.Session:
    """A boto3 session for an application: its role assumed when it has one."""
    role_arn = getattr(application, "role_arn", "") if application is not None else ""
    if role_arn:
        slug = getattr(application, "slug", "app")
        return _assumed_session(_assume(role_arn, f"meridian-{slug}"))
    return _base_session()


def client(service: str, region: str, application=None, **config_overrides):
    """A client for one service in one region, for an application (or the installation)."""
    try:
        return session_for(application).client(
            service, region_name=region, endpoint_url=endpoint_url(),
            config=client_config(**config_overrides),
        )
    except AwsError:
        raise
    except Exception as exc:
        raise AwsError.wrap(exc, service=service, region=region) from exc


def enabled_regions(application=None) -> set[str]:
    """Regions enabled for the account (EC2 DescribeRegions)."""
    ec2 = client("ec2", settings.AWS_DEFAULT_REGION, application)
    try:
        answer = ec2.describe_regions(AllRegions=True)
    except Exception as exc:
        raise AwsError.wrap(exc, service="ec2", region=settings.AWS_DEFAULT_REGION) from exc
    return {
        r["RegionName"]
        for r in answer.get("Regions", [])
        if r.get("OptInStatus", "opt-in-not-required") in ("opt-in-not-required", "opted-in")
    }


def check_region_enabled(code: str, application=None) -> str | None:
    """None when the region is enabled for the account, else a message for the operator."""
    try:
        enabled = enabled_regions(application)
    except AwsError as exc:
        return f"Could not check whether {code} is enabled for the account: {exc}"
    if code not in enabled:
        return (f"{code} is not enabled for this AWS account. Enable it under Account settings "
                "(opt-in regions) before adding it.")
    return None
