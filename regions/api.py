"""The inventory over JSON: applications and their regions.

Every change goes through regions.services, so the API validates exactly like the web UI and
the command line; the schemas here only check JSON types and refuse unknown fields."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError

from accounts.audit import Actor, client_ip
from accounts.auth import api_auth
from accounts.models import AuditSource
from accounts.roles import ADMIN, OPERATOR, VIEWER
from lib.api_schemas import ERRORS, StrictIn, model_field, model_schema
from lib.aws import check_region_enabled

from . import services, validators
from .models import APPLICATION_FIELDS, Application, Region

router = Router(tags=["inventory"])


ApplicationIn = model_schema("ApplicationIn", Application, APPLICATION_FIELDS, mode="in",
                             base=StrictIn)
ApplicationPatch = model_schema(
    "ApplicationPatch", Application, APPLICATION_FIELDS, mode="patch", base=StrictIn,
    doc="Only the fields sent change; null is not a value for any of them.")


class RegionIn(StrictIn):
    code: str = model_field(Region, "code", "required")


class RegionOut(Schema):
    code: str
    role: str
    state: str
    stack_name: str
    health_check_id: str
    api_url: str
    rest_api_id: str
    outputs: dict
    traffic: str
    traffic_changed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    state_changed_at: datetime


ApplicationOut = model_schema("ApplicationOut", Application,
                              (*APPLICATION_FIELDS, "created_at", "updated_at"), mode="out")


class ApplicationDetailOut(ApplicationOut):
    regions: list[RegionOut]

    @staticmethod
    def resolve_regions(obj: Application) -> list[Region]:
        return list(obj.regions.all())


def _actor(request) -> Actor:
    return Actor(request.auth, AuditSource.API, client_ip(request))


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
        200: {"description": "The region was deployed: it is now being removed, and the next "
                             "rollout takes its stack down."},
        204: {"description": "The region was only planned: it was deleted outright."},
    }},
)
def region_delete(request, slug: str, code: str):
    """Take a region out: deleted when never deployed (204), else marked removing (200)."""
    application = _application(slug)
    _region(application, code)
    region = services.remove_region(application, code, _actor(request))
    if region is None:
        return Status(204, None)
    return Status(200, region)
