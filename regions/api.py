"""The inventory over JSON: applications, their regions and the audit trail.

Every change goes through regions.services, so the API validates exactly like the web UI and
the command line; the schemas here only check JSON types and refuse unknown fields."""

from datetime import UTC, date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import ConfigDict, field_validator

from . import services, validators
from .api_auth import api_auth
from .aws import check_region_enabled
from .models import Application, AuditEntry, AuditSource, Region
from .permissions import ADMIN, OPERATOR, VIEWER

router = Router(tags=["inventory"])

MAX_PAGE = 500


class ErrorOut(Schema):
    """Every error: messages per field; `__all__` holds those about the request as a whole."""

    errors: dict[str, list[str]] = Field(
        examples=[{"slug": ["This field is required."], "__all__": ["..."]}]
    )


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


def _model_field(model, name: str, mode: str = "optional"):
    """A schema field documented from the model field: help text, length limit and choices.

    mode is "required", "optional" (the model default applies) or "patch" (left unchanged).
    Lengths and choices are documented, not enforced here: the model's full_clean enforces
    them, with the same messages as the web UI."""
    field = model._meta.get_field(name)
    extra: dict = {}
    if getattr(field, "max_length", None):
        extra["maxLength"] = field.max_length
    if field.choices:
        extra["enum"] = [value for value, _label in field.flatchoices]

    def document(schema: dict) -> None:
        schema.update(extra)
        if mode == "patch":
            schema.pop("default", None)

    kwargs: dict = {"description": str(field.help_text) or None, "json_schema_extra": document}
    if mode == "required":
        return Field(..., **kwargs)
    if mode == "patch":
        return Field(None, **kwargs)
    return Field(field.get_default(), **kwargs)


class StrictIn(Schema):
    """Request bodies: JSON types exactly, no unknown fields, no text a database cannot store."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*", mode="after")
    @classmethod
    def storable_text(cls, value):
        if isinstance(value, str):
            if "\x00" in value:
                raise ValueError("Null characters are not allowed.")
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("The text is not valid Unicode.") from None
        return value


def _app_field(name: str, mode: str = "optional"):
    return _model_field(Application, name, mode)


class ApplicationIn(StrictIn):
    slug: str = _app_field("slug", "required")
    name: str = _app_field("name", "required")
    domain_name: str = _app_field("domain_name", "required")
    hosted_zone_id: str = _app_field("hosted_zone_id", "required")
    table_name: str = _app_field("table_name", "required")
    main_region: str = _app_field("main_region", "required")
    account_id: str = _app_field("account_id", "required")
    role_arn: str = _app_field("role_arn")
    stage: str = _app_field("stage")
    source: str = _app_field("source")
    command: str = _app_field("command")
    workdir: str = _app_field("workdir")
    health_check_interval: int = _app_field("health_check_interval")
    failure_threshold: int = _app_field("failure_threshold")


class ApplicationPatch(StrictIn):
    """Only the fields sent change; null is not a value for any of them."""

    slug: str = _app_field("slug", "patch")
    name: str = _app_field("name", "patch")
    domain_name: str = _app_field("domain_name", "patch")
    hosted_zone_id: str = _app_field("hosted_zone_id", "patch")
    table_name: str = _app_field("table_name", "patch")
    main_region: str = _app_field("main_region", "patch")
    account_id: str = _app_field("account_id", "patch")
    role_arn: str = _app_field("role_arn", "patch")
    stage: str = _app_field("stage", "patch")
    source: str = _app_field("source", "patch")
    command: str = _app_field("command", "patch")
    workdir: str = _app_field("workdir", "patch")
    health_check_interval: int = _app_field("health_check_interval", "patch")
    failure_threshold: int = _app_field("failure_threshold", "patch")


class RegionIn(StrictIn):
    code: str = _model_field(Region, "code", "required")


class RegionOut(Schema):
    code: str
    role: str
    state: str
    stack_name: str
    health_check_id: str
    api_url: str
    rest_api_id: str
    outputs: dict
    created_at: datetime
    updated_at: datetime
    state_changed_at: datetime


class ApplicationOut(Schema):
    slug: str
    name: str
    domain_name: str
    hosted_zone_id: str
    table_name: str
    main_region: str
    account_id: str
    role_arn: str
    stage: str
    source: str
    command: str
    workdir: str
    health_check_interval: int
    failure_threshold: int
    created_at: datetime
    updated_at: datetime


class ApplicationDetailOut(ApplicationOut):
    regions: list[RegionOut]

    @staticmethod
    def resolve_regions(obj: Application) -> list[Region]:
        return list(obj.regions.all())


class AuditEntryOut(Schema):
    id: int
    created_at: datetime
    actor: str = Field(alias="actor_name")
    source: str
    remote_addr: str | None
    action: str
    object_type: str
    object_id: str
    object_repr: str
    application: str = Field(alias="application_slug")
    before: dict | None
    after: dict | None


class AuditPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[AuditEntryOut]


def _actor(request) -> services.Actor:
    return services.Actor(request.auth, AuditSource.API, services.client_ip(request))


def _application(slug: str) -> Application:
    # Main region first ("main" sorts before "replica"), then by code.
    application = (
        Application.objects.filter(slug=slug)
        .prefetch_related(Prefetch("regions", queryset=Region.objects.order_by("role", "code")))
        .first()
    )
    if application is None:
        raise HttpError(404, f"There is no application {slug!r}.")
    return application


def _region(application: Application, code: str) -> Region:
    region = application.regions.filter(code=code).first()
    if region is None:
        raise HttpError(404, f"{code!r} is not a region of {application.slug}.")
    return region


@router.get("/applications", response={200: list[ApplicationOut], **ERRORS},
            auth=api_auth(VIEWER))
def application_list(request):
    return Application.objects.all()


@router.post("/applications", response={201: ApplicationDetailOut, **ERRORS},
             auth=api_auth(ADMIN))
def application_create(request, payload: ApplicationIn):
    """Create an application with its main region (planned)."""
    application = services.create_application(payload.model_dump(exclude_unset=True),
                                              _actor(request))
    return Status(201, _application(application.slug))


@router.get("/applications/{slug}", response={200: ApplicationDetailOut, **ERRORS},
            auth=api_auth(VIEWER))
def application_detail(request, slug: str):
    return _application(slug)


@router.patch("/applications/{slug}", response={200: ApplicationDetailOut, **ERRORS},
              auth=api_auth(ADMIN))
def application_update(request, slug: str, payload: ApplicationPatch):
    """Change the fields sent; the slug never changes, the main region only before a deploy."""
    application = _application(slug)
    services.update_application(application, payload.model_dump(exclude_unset=True),
                                _actor(request))
    return _application(slug)


@router.delete("/applications/{slug}", response={204: None, **ERRORS}, auth=api_auth(ADMIN))
def application_delete(request, slug: str):
    """Delete an application that has no deployed region."""
    services.delete_application(_application(slug), _actor(request))
    return Status(204, None)


@router.get("/applications/{slug}/regions", response={200: list[RegionOut], **ERRORS},
            auth=api_auth(VIEWER))
def region_list(request, slug: str):
    return list(_application(slug).regions.all())


@router.post("/applications/{slug}/regions", response={201: RegionOut, **ERRORS},
             auth=api_auth(OPERATOR))
def region_create(request, slug: str, payload: RegionIn, check_enabled: bool = Query(
        False, description="Ask AWS (EC2 DescribeRegions) whether the account has the region "
                           "enabled, and refuse it when not.")):
    """Add a region to the inventory as planned; the next rollout deploys it."""
    application = _application(slug)
    if check_enabled and payload.code in validators.known_regions():
        message = check_region_enabled(payload.code, application)
        if message:
            raise ValidationError({"code": [message]})
    return Status(201, services.add_region(application, payload.code, _actor(request)))


@router.get("/applications/{slug}/regions/{code}", response={200: RegionOut, **ERRORS},
            auth=api_auth(VIEWER))
def region_detail(request, slug: str, code: str):
    return _region(_application(slug), code)


@router.delete(
    "/applications/{slug}/regions/{code}",
    response={200: RegionOut, 204: None, **ERRORS},
    auth=api_auth(OPERATOR),
    openapi_extra={"responses": {
        200: {"description": "The region was deployed: it is now draining, and the next "
                             "rollout takes its stack down."},
        204: {"description": "The region was only planned: it was deleted outright."},
    }},
)
def region_delete(request, slug: str, code: str):
    """Take a region out: deleted when never deployed (204), else marked draining (200)."""
    application = _application(slug)
    _region(application, code)
    region = services.remove_region(application, code, _actor(request))
    if region is None:
        return Status(204, None)
    return Status(200, region)


def _parse_moment(name: str, value: str, *, end: bool) -> datetime:
    """An ISO date (the whole day) or date-time; a naive time is UTC."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime.combine(day, time.min, tzinfo=UTC)
            return moment + timedelta(days=1) if end else moment
        moment = datetime.fromisoformat(value)
        # Dates at the ends of the calendar overflow here, not later in the database.
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValidationError(
            {name: ["Enter an ISO 8601 date or date-time, such as 2026-11-27 or "
                    "2026-11-27T08:30:00Z."]}
        ) from None


@router.get("/audit", response={200: AuditPageOut, **ERRORS}, auth=api_auth(VIEWER))
def audit_list(
    request,
    actor: str | None = Query(None, description="User name of whoever made the change."),
    application: str | None = Query(None, description="Application slug."),
    action: str | None = Query(None, description="For example region.add."),
    since: str | None = Query(None, description="ISO date or date-time, inclusive."),
    until: str | None = Query(None, description="ISO date (inclusive) or date-time "
                                                "(exclusive)."),
    limit: int = Query(100, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0),
):
    """The audit trail, newest first."""
    entries = AuditEntry.objects.order_by("-created_at", "-id")
    if actor:
        entries = entries.filter(actor_name=actor)
    if application:
        entries = entries.filter(application_slug=application)
    if action:
        entries = entries.filter(action=action)
    errors: dict[str, list[str]] = {}
    for name, value, end in (("since", since, False), ("until", until, True)):
        if not value:
            continue
        try:
            moment = _parse_moment(name, value, end=end)
        except ValidationError as exc:
            errors.update(exc.message_dict)
            continue
        entries = entries.filter(**{"created_at__lt" if end else "created_at__gte": moment})
    if errors:
        raise ValidationError(errors)
    return {
        "count": entries.count(),
        "limit": limit,
        "offset": offset,
        "items": list(entries[offset:offset + limit]),
    }
