"""Who may call the JSON API: a bearer token or a browser session, then a role check.

Deny by default: an operation that does not name its role needs `viewer` to read and
`admin` to change anything, so a forgotten declaration fails closed."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthenticationError, AuthorizationError, HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from . import roles, throttle
from .audit import client_ip
from .models import ApiToken

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Writing last_used_at on every request would turn each read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class CsrfFailed(AuthorizationError):
    def __init__(self) -> None:
        super().__init__(
            message="CSRF check failed: send the csrftoken cookie's value in the X-CSRFToken "
            "header, or use a bearer token."
        )


class TooManyFailures(HttpError):
    """429: this address sent too many bad tokens; `retry_after` seconds until it may again."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(429, f"Too many failed authentication attempts from this address; "
                              f"try again in {retry_after} seconds.")


def required_role(request: HttpRequest, role: str | None) -> str:
    if role is not None:
        return role
    return roles.VIEWER if request.method in SAFE_METHODS else roles.ADMIN


def authorize(request: HttpRequest, user, role: str | None):
    """The user when their role is enough; otherwise 403."""
    needed = required_role(request, role)
    if not roles.has_role(user, needed):
        if roles.role_of(user) is None:
            raise AuthorizationError(message="This account has no role in Meridian.")
        raise AuthorizationError(message=f"This action needs the {needed} role.")
    return user


def user_for_key(key: str):
    """The active user a plain token belongs to, or None; records when it was last used."""
    if not key.startswith(ApiToken.PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash_key(key), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
        # Filtered so concurrent requests write it once a minute at most, never backwards.
        ApiToken.objects.filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION),
            pk=token.pk,
        ).update(last_used_at=now)
    return token.user


class TokenAuth(HttpBearer):
    """`Authorization: Bearer mrd_...`; a wrong, revoked or unknown token is 401 at once, and
    an address that sends too many of them gets 429 for the rest of the window."""

    openapi_bearerFormat = "mrd_ token (manage.py create_api_token)"

    def __init__(self, role: str | None = None) -> None:
        self.role = role
        super().__init__()

    def __call__(self, request: HttpRequest):
        header = request.headers.get(self.header)
        if not header:
            return None
        address = client_ip(request)
        wait = throttle.retry_after(address)
        if wait:
            raise TooManyFailures(wait)
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            throttle.count_failure(address)
            raise AuthenticationError(message="Use an Authorization: Bearer mrd_... header.")
        return self.authenticate(request, key.strip())

    def authenticate(self, request: HttpRequest, token: str):
        user = user_for_key(token)
        if user is None:
            throttle.count_failure(client_ip(request))
            raise AuthenticationError(message="The token is unknown or revoked.")
        request.user = user
        return authorize(request, user, self.role)


class SessionAuth(APIKeyCookie):
    """The browser session of a logged-in operator; unsafe methods need the CSRF token."""

    param_name = settings.SESSION_COOKIE_NAME
    csrf = True

    def __init__(self, role: str | None = None) -> None:
        self.role = role
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        # Checked after authentication so an anonymous caller gets 401, not a CSRF 403.
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise CsrfFailed()
        return authorize(request, user, self.role)


def api_auth(role: str | None = None) -> list:
    """Authentication for one operation; `role` is the least role it needs (None: by method)."""
    return [TokenAuth(role), SessionAuth(role)]
