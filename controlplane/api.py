"""The JSON API: one NinjaAPI for the project, apps contribute routers.

Every error has one shape, {"errors": {field: [messages]}}, with "__all__" for messages
about the request as a whole; no error ever carries a stack trace."""

import logging
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from accounts.auth import TokenAuth, TooManyFailures, api_auth, authorize
from accounts.roles import VIEWER

from .errors import too_big_message

logger = logging.getLogger(__name__)

NOT_JSON = "The body is not valid JSON."
NOT_OBJECT = "The body must be a JSON object."
# Pydantic's wording where the project has its own (the same as the services').
MESSAGES = {
    "missing": "This field is required.",
    "extra_forbidden": "Unknown field.",
}

def login_required_for_docs(view):
    """The schema and its docs page need a login too: a bearer token or a browser session."""
    bearer = TokenAuth(VIEWER)

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            if bearer(request) is None:  # no Authorization header: the session decides
                if not request.user.is_authenticated:
                    if request.path.endswith(".json"):
                        raise AuthenticationError()
                    return redirect_to_login(request.get_full_path())
                authorize(request, request.user, VIEWER)
        except Exception as exc:  # noqa: BLE001 - answered by the handlers below
            return api.on_exception(request, exc)
        return view(request, *args, **kwargs)

    return wrapped


api = NinjaAPI(
    title="Meridian API",
    version="1",
    description=(
        "The inventory of Meridian: applications, their regions and the audit trail. "
        "Authenticate with `Authorization: Bearer mrd_...` (manage.py create_api_token) or a "
        "browser session (unsafe methods then need the X-CSRFToken header). "
        "Every error answers `{\"errors\": {field: [messages]}}`."
    ),
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
    # Swagger UI from ninja's bundled static files; no call to the online spec validator.
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": False}),
    auth=api_auth(),
    docs_decorator=login_required_for_docs,
)
api.add_router("/v1/", "regions.api.router")
api.add_router("/v1/", "accounts.api.router")
api.add_router("/v1/", "watch.api.router")
api.add_router("/v1/", "deployer.api.router")
api.add_router("/v1/", "traffic.api.router")
api.add_router("/v1/", "traffic.drill_api.router")
api.add_router("/v1/", "alerts.api.router")


def error_response(request: HttpRequest, errors: dict, status: int) -> HttpResponse:
    return api.create_response(request, {"errors": errors}, status=status)


def _sentence(message: str) -> str:
    return message if message.endswith(".") else message + "."


def errors_from_pydantic(items: list[dict]) -> dict[str, list[str]]:
    """ninja's error list to fields: loc is (source, [parameter,] field, ...)."""
    errors: dict[str, list[str]] = {}
    for item in items:
        loc = [str(part) for part in item.get("loc", ())]
        source, rest = (loc[0], loc[1:]) if loc else ("", [])
        if source == "body" and rest:
            rest = rest[1:]  # the view's parameter name says nothing to the client
        kind = item.get("type", "")
        if source == "body" and not rest:
            message = NOT_OBJECT
        else:
            message = MESSAGES.get(kind) or _sentence(item.get("msg", "Invalid value"))
        if message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        field = ".".join(rest) if rest else NON_FIELD_ERRORS
        errors.setdefault(field, [])
        if message not in errors[field]:
            errors[field].append(message)
    return errors


@api.exception_handler(NinjaValidationError)
def on_invalid_request(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return error_response(request, errors_from_pydantic(exc.errors), 400)


@api.exception_handler(DjangoValidationError)
def on_invalid_change(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        errors = exc.message_dict
    else:
        errors = {NON_FIELD_ERRORS: exc.messages}
    return error_response(request, errors, 400)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    message = str(exc)
    if exc.status_code == 401 and message == "Unauthorized":
        message = "Log in, or send an Authorization: Bearer mrd_... header."
    if exc.status_code == 400 and exc.__cause__ is not None:
        # ninja's parser failed on the body (bad JSON, bad UTF-8, nesting too deep).
        message = NOT_JSON
    response = error_response(request, {NON_FIELD_ERRORS: [message]}, exc.status_code)
    if exc.status_code == 401:
        response["WWW-Authenticate"] = 'Bearer realm="meridian"'
    if isinstance(exc, TooManyFailures):
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(RequestDataTooBig)
def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return error_response(request, {NON_FIELD_ERRORS: [too_big_message()]}, 413)


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, {NON_FIELD_ERRORS: ["Not found."]}, 404)


@api.exception_handler(Exception)
def on_failure(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API request %s %s failed", request.method, request.path)
    return error_response(
        request, {NON_FIELD_ERRORS: ["Internal error."]}, 500
    )
