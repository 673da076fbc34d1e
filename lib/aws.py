"""The one door to AWS: sessions and clients for an application, with explicit timeouts,
adaptive retries, the application's role (STS AssumeRole) and AWS_ENDPOINT_URL honoured.

Every AWS error that reaches callers is an AwsError that says whether retrying can help."""

import threading
import time
from dataclasses import dataclass

import boto3
import botocore.exceptions
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


class AwsError(Exception):
    """An AWS call failed. `retryable` says whether trying again later can help."""

    def __init__(self, message: str, *, code: str = "", retryable: bool = False, service: str = "",
                 region: str = ""):
        super().__init__(message)
        self.code = code
        self.retryable = retryable
        self.service = service
        self.region = region

    @classmethod
    def wrap(cls, exc: Exception, *, service: str = "", region: str = "") -> "AwsError":
        where = f"{service} in {region}" if service and region else (service or region or "AWS")
        if isinstance(exc, AwsError):
            return exc
        if isinstance(exc, botocore.exceptions.ClientError):
            error = exc.response.get("Error", {})
            code = error.get("Code", "")
            message = error.get("Message", "") or str(exc)
            return cls(f"{where}: {code}: {message}", code=code,
                       retryable=code in RETRYABLE_CODES, service=service, region=region)
        if isinstance(exc, (botocore.exceptions.NoCredentialsError,
                            botocore.exceptions.PartialCredentialsError)):
            return cls(f"{where}: no AWS credentials are configured", code="NoCredentials",
                       retryable=False, service=service, region=region)
        if isinstance(exc, (botocore.exceptions.EndpointConnectionError,
                            botocore.exceptions.ConnectTimeoutError,
                            botocore.exceptions.ReadTimeoutError,
                            botocore.exceptions.ConnectionClosedError)):
            return cls(f"{where}: cannot reach the endpoint ({exc})", code="Unreachable",
                       retryable=True, service=service, region=region)
        if isinstance(exc, botocore.exceptions.BotoCoreError):
            return cls(f"{where}: {exc}", code=type(exc).__name__, retryable=False,
                       service=service, region=region)
        return cls(f"{where}: {exc}", code=type(exc).__name__, retryable=False,
                   service=service, region=region)

    @property
    def is_credentials_problem(self) -> bool:
        return self.code in CREDENTIAL_CODES or self.code == "NoCredentials"


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
