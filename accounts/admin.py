from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin, messages

from . import lockouts, roles, tokens
from .audit import Actor
from .models import ApiToken, AuditEntry, AuditSource


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never changed here: changes go through the services, the audit never changes."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def admin_actor(request) -> Actor:
    return Actor.from_request(request, AuditSource.ADMIN)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor_name", "source", "action", "object_repr",
                    "application_slug")
    list_filter = ("source", "action")
    search_fields = ("actor_name", "object_repr", "application_slug")


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Tokens are revoked here through the audited path; a revoked token stays revoked."""

    list_display = ("name", "user", "key_prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    fields = ("user", "name", "key_prefix", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke_tokens"]

    def has_revoke_permission(self, request):
        return roles.can_administer(request.user)

    @admin.action(description="Revoke the selected tokens", permissions=["revoke"])
    def revoke_tokens(self, request, queryset):
        actor = admin_actor(request)
        done = sum(tokens.revoke(token, actor) for token in queryset.select_related("user"))
        messages.success(request, f"{done} token(s) revoked.")


@admin.register(AccessAttempt)
class LockoutAdmin(ReadOnlyAdmin):
    """Failed logins per user name and address; Unlock forgets them (audited)."""

    list_display = ("username", "ip_address", "failures_since_start", "attempt_time",
                    "is_locked")
    search_fields = ("username", "ip_address")
    fields = ("username", "ip_address", "user_agent", "failures_since_start", "attempt_time")
    actions = ["unlock"]

    @admin.display(boolean=True, description="locked")
    def is_locked(self, obj) -> bool:
        return obj.failures_since_start >= settings.AXES_FAILURE_LIMIT

    def has_unlock_permission(self, request):
        return roles.can_administer(request.user)

    @admin.action(description="Unlock: forget the selected failed logins",
                  permissions=["unlock"])
    def unlock(self, request, queryset):
        actor = admin_actor(request)
        pairs = set(queryset.values_list("username", "ip_address"))
        removed = sum(lockouts.unlock(actor, username=username or "", address=address or "")
                      for username, address in pairs)
        messages.success(request, f"{removed} failed-login record(s) removed.")
