from django.contrib import admin

from .models import ApiToken, AuditEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never changed here: regions change through the services, the audit never."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
