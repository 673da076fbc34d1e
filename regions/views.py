from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, Q
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import aws, permissions, sandbox, services, watch
from .forms import ApplicationForm, AuditFilterForm, RegionAddForm, TokenForm
from .models import ApiToken, Application, AuditEntry, Region, RegionState
from .validators import region_choices


def role_required(role: str):
    """Deny by default: a view runs only for users holding at least `role`."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not permissions.has_role(request.user, role):
                raise PermissionDenied(f"This needs the {role} role.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def _get_application(slug: str) -> Application:
    return get_object_or_404(Application, slug=slug)


def _get_region(application: Application, code: str) -> Region:
    return get_object_or_404(
        Region.objects.select_related("application"), application=application, code=code
    )


def _apply_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        target = field if field in form.fields else None
        for error in errors:
            form.add_error(target, error)


@login_not_required
@require_GET
def healthz(request):
    """Liveness probe: the process answers and the database is reachable."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any database failure means not ready
        return JsonResponse({"status": "error", "database": str(exc)[:200]}, status=503)
    return JsonResponse({"status": "ok"})


@require_GET
@role_required(permissions.VIEWER)
def application_list(request):
    applications = Application.objects.annotate(
        region_count=Count("regions", filter=~Q(regions__state=RegionState.REMOVED)),
        active_count=Count("regions", filter=Q(regions__state=RegionState.ACTIVE)),
        failed_count=Count("regions", filter=Q(regions__state=RegionState.FAILED)),
    )
    return render(request, "regions/application_list.html", {"applications": applications})


def _overview_extras(application: Application, user) -> dict:
    """What other parts of the product add to the overview, each through one small function."""
    from deployer.summary import overview_context

    return {
        "dashboard_partial": "watch/_dashboard.html",
        **watch.dashboard_context(application),
        **overview_context(application, user),
    }


@require_GET
@role_required(permissions.VIEWER)
def application_detail(request, slug):
    application = _get_application(slug)
    regions = list(
        application.regions.exclude(state=RegionState.REMOVED).order_by("role", "code")
    )
    context = {"application": application, "regions": regions,
               "deployed": any(r.state not in (RegionState.PLANNED, RegionState.REMOVED)
                               for r in regions)}
    context.update(_overview_extras(application, request.user))
    return render(request, "regions/application_detail.html", context)


@require_http_methods(["GET", "POST"])
@role_required(permissions.ADMIN)
def application_create(request):
    initial = sandbox.form_defaults() if settings.SANDBOX and request.method == "GET" else None
    form = ApplicationForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items()}
        try:
            application = services.create_application(data, services.Actor.from_request(request))
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"Application {application.slug} created with its main "
                                      f"region {application.main_region}.")
            return redirect(application)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "regions/application_form.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@role_required(permissions.ADMIN)
def application_edit(request, slug):
    application = _get_application(slug)
    form = ApplicationForm(request.POST if request.method == "POST" else None, instance=Application.objects.get(pk=application.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_application(application, form.changes(),
                                        services.Actor.from_request(request))
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"Application {application.slug} saved.")
            return redirect(application)
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request, "regions/application_form.html",
        {"form": form, "application": application}, status=status,
    )


@require_POST
@role_required(permissions.ADMIN)
def application_delete(request, slug):
    application = _get_application(slug)
    try:
        services.delete_application(application, services.Actor.from_request(request))
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
        return redirect(application)
    messages.success(request, f"Application {slug} deleted.")
    return redirect("regions:application_list")


@require_POST
@role_required(permissions.VIEWER)
def application_validate(request):
    """Validate one field of the application form on blur (htmx) and return that field."""
    slug = request.POST.get("_instance")
    instance = Application.objects.filter(slug=slug).first() if slug else None
    form = ApplicationForm(request.POST, instance=instance)
    name = request.POST.get("_field", "")
    if name not in form.fields:
        return HttpResponseBadRequest("Unknown field.")
    form.is_valid()
    return render(request, "regions/_field.html", {"field": form[name], "validate": True})


@require_http_methods(["GET", "POST"])
@role_required(permissions.OPERATOR)
def region_add(request, slug):
    application = _get_application(slug)
    form = RegionAddForm(request.POST if request.method == "POST" else None, application=application)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        problem = None
        if form.cleaned_data.get("check_enabled"):
            problem = aws.check_region_enabled(code, application)
        if problem:
            form.add_error("code", problem)
        else:
            try:
                region = services.add_region(application, code,
                                             services.Actor.from_request(request))
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, f"{region.code} added to {application.slug} as a "
                                          f"{region.get_role_display().lower()}; it is planned "
                                          "until the next deploy.")
                return redirect(application)
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request, "regions/region_add.html",
        {"form": form, "application": application, "region_codes": region_choices()},
        status=status,
    )


@require_POST
@role_required(permissions.VIEWER)
def region_validate(request, slug):
    application = _get_application(slug)
    form = RegionAddForm(request.POST, application=application)
    form.is_valid()
    return render(request, "regions/_field.html", {"field": form["code"], "validate": True})


@require_GET
@role_required(permissions.VIEWER)
def region_detail(request, slug, code):
    application = _get_application(slug)
    region = _get_region(application, code)
    history = AuditEntry.objects.filter(
        application=application, object_type="region", object_id=str(region.pk)
    )[:20]
    context = {"application": application, "region": region, "history": history,
               "watch_partial": "watch/_region_watch.html", **watch.region_context(region)}
    if settings.SANDBOX:
        context.update(
            sandbox_partial="regions/_sandbox_faults.html",
            region_faults=sorted(region.sandbox_faults.values_list("kind", flat=True)),
            fault_actions=[("outage", "Simulate outage"), ("lag", "Simulate replication lag"),
                           ("restore", "Restore")],
        )
    return render(request, "regions/region_detail.html", context)


@require_POST
@role_required(permissions.OPERATOR)
def region_remove(request, slug, code):
    application = _get_application(slug)
    try:
        region = services.remove_region(application, code, services.Actor.from_request(request))
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
        return redirect(application)
    if region is None:
        messages.success(request, f"{code} was never deployed and is removed from the inventory.")
    else:
        messages.success(request, f"{code} is draining: the next deploy takes its stack down, "
                                  "then drops its replica.")
    return redirect(application)


@require_GET
@role_required(permissions.VIEWER)
def audit_list(request):
    form = AuditFilterForm(request.GET or None)
    entries = AuditEntry.objects.all()
    if form.is_bound and form.is_valid():
        entries = form.filter(entries)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "regions/audit_list.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


@require_GET
def profile(request):
    tokens = request.user.api_tokens.all()
    return render(request, "regions/profile.html", {"tokens": tokens, "form": TokenForm()})


@require_POST
def token_create(request):
    if not permissions.can_view(request.user):
        raise PermissionDenied("Tokens are for users with a role.")
    form = TokenForm(request.POST)
    if not form.is_valid():
        tokens = request.user.api_tokens.all()
        return render(request, "regions/profile.html", {"tokens": tokens, "form": form},
                      status=400)
    token, key = ApiToken.issue(request.user, form.cleaned_data["name"])
    services.record(services.Actor.from_request(request), "token.create", token,
                    after={"name": token.name, "prefix": token.key_prefix,
                           "user": request.user.get_username()})
    tokens = request.user.api_tokens.all()
    return render(request, "regions/profile.html",
                  {"tokens": tokens, "form": TokenForm(), "new_key": key, "new_token": token})


@require_POST
def token_revoke(request, pk):
    token = request.user.api_tokens.filter(pk=pk).first()
    if token is None:
        raise Http404("No such token.")
    if ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=timezone.now()):
        services.record(services.Actor.from_request(request), "token.revoke", token,
                        before={"name": token.name, "prefix": token.key_prefix})
        messages.success(request, f"Token {token.name} revoked.")
    return redirect("regions:profile")


