from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from . import services
from .models import APPLICATION_FIELDS, ApiToken, Application, AuditEntry, AuditSource, Region


def _actor(request) -> services.Actor:
    return services.Actor.from_request(request, AuditSource.ADMIN)


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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never changed here: regions change through the services, the audit never."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Region)
class RegionAdmin(ReadOnlyAdmin):
    list_display = ("application", "code", "role", "state", "health_check_id", "updated_at")
    list_filter = ("state", "role")
    search_fields = ("application__slug", "code")


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor_name", "source", "action", "object_repr",
                    "application_slug")
    list_filter = ("source", "action")
    search_fields = ("actor_name", "object_repr", "application_slug")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "key_prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("user", "name", "key_prefix", "created_at", "last_used_at", "key_hash")
    fields = ("user", "name", "key_prefix", "created_at", "last_used_at", "revoked_at")

    def has_add_permission(self, request):
        return False
