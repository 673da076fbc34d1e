from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from accounts.admin import ReadOnlyAdmin
from accounts.audit import Actor
from accounts.models import AuditSource

from . import services
from .forms import DeployGateFields
from .models import APPLICATION_FIELDS, Application, Region


def _actor(request) -> Actor:
    return Actor.from_request(request, AuditSource.ADMIN)


class RegionInline(admin.TabularInline):
    model = Region
    extra = 0
    fields = ("code", "role", "state", "stack_name", "health_check_id", "api_url")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    form = DeployGateFields
    list_display = ("slug", "name", "domain_name", "main_region", "source", "updated_at")
    search_fields = ("slug", "name", "domain_name")
    inlines = [RegionInline]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # The same rules the services enforce, shown as read-only fields instead of errors.
        return ("slug", "main_region") if services.is_deployed(obj) else ("slug",)

    def save_model(self, request, obj, form, change):
        # Go through the services so admin changes are validated and audited like any other.
        if change:
            changes = {k: form.cleaned_data[k] for k in form.changed_data if k in APPLICATION_FIELDS}
            services.update_application(obj, changes, _actor(request))
        else:
            data = {k: form.cleaned_data[k] for k in APPLICATION_FIELDS if k in form.cleaned_data}
            created = services.create_application(data, _actor(request))
            obj.pk = created.pk
            obj._state.adding = False

    def delete_model(self, request, obj):
        try:
            services.delete_application(obj, _actor(request))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(Region)
class RegionAdmin(ReadOnlyAdmin):
    list_display = ("application", "code", "role", "state", "health_check_id", "updated_at")
    list_filter = ("state", "role")
    search_fields = ("application__slug", "code")
