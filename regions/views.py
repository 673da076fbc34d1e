"""Inventory pages: the application list, creating, editing and deleting applications, adding
and removing regions. The overview and region pages compose other apps and live in front."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.audit import Actor
from accounts.roles import ADMIN, OPERATOR, VIEWER, role_required
from lib import aws
from lib.forms import apply_errors

from . import services
from .forms import ApplicationForm, RegionAddForm, new_application_defaults
from .models import Application, RegionState
from .validators import region_choices


def _get_application(slug: str) -> Application:
    return get_object_or_404(Application, slug=slug)


@require_GET
@role_required(VIEWER)
def application_list(request):
    applications = Application.objects.annotate(
        region_count=Count("regions", filter=~Q(regions__state=RegionState.REMOVED)),
        active_count=Count("regions", filter=Q(regions__state=RegionState.ACTIVE)),
        failed_count=Count("regions", filter=Q(regions__state=RegionState.FAILED)),
    )
    return render(request, "regions/application_list.html", {"applications": applications})


@require_http_methods(["GET", "POST"])
@role_required(ADMIN)
def application_create(request):
    initial = new_application_defaults() if request.method == "GET" else None
    form = ApplicationForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items()}
        try:
            application = services.create_application(data, Actor.from_request(request))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Application {application.slug} created with its main "
                                      f"region {application.main_region}.")
            return redirect(application)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "regions/application_form.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@role_required(ADMIN)
def application_edit(request, slug):
    application = _get_application(slug)
    form = ApplicationForm(request.POST if request.method == "POST" else None, instance=Application.objects.get(pk=application.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_application(application, form.changes(),
                                        Actor.from_request(request))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Application {application.slug} saved.")
            return redirect(application)
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request, "regions/application_form.html",
        {"form": form, "application": application}, status=status,
    )


@require_POST
@role_required(ADMIN)
def application_delete(request, slug):
    application = _get_application(slug)
    try:
        services.delete_application(application, Actor.from_request(request))
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
        return redirect(application)
    messages.success(request, f"Application {slug} deleted.")
    return redirect("regions:application_list")


@require_POST
@role_required(VIEWER)
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
@role_required(OPERATOR)
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
                                             Actor.from_request(request))
            except ValidationError as exc:
                apply_errors(form, exc)
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
@role_required(VIEWER)
def region_validate(request, slug):
    application = _get_application(slug)
    form = RegionAddForm(request.POST, application=application)
    form.is_valid()
    return render(request, "regions/_field.html", {"field": form["code"], "validate": True})


@require_http_methods(["GET", "POST"])
@role_required(OPERATOR)
def region_remove(request, slug, code):
    """Ask first: what removing does, and for a deployed region the code typed again, since the
    next deploy deletes its stack and its replica of the table with the data in it."""
    application = _get_application(slug)
    region = get_object_or_404(application.regions.exclude(state=RegionState.REMOVED), code=code)
    deployed = region.state != RegionState.PLANNED
    error = ""
    if request.method == "POST":
        if deployed and request.POST.get("confirm", "").strip() != code:
            error = f"Type {code} to confirm."
        else:
            try:
                removed = services.remove_region(application, code, Actor.from_request(request))
            except ValidationError as exc:
                for message in exc.messages:
                    messages.error(request, message)
                return redirect(application)
            if removed is None:
                messages.success(request, f"{code} was never deployed and is removed from the "
                                          "inventory.")
            else:
                messages.success(request, f"{code} is being removed: the next deploy takes its "
                                          "stack down, then drops its replica.")
            return redirect(application)
    return render(request, "regions/region_remove.html",
                  {"application": application, "region": region, "deployed": deployed,
                   "error": error}, status=400 if error else 200)
