from django.contrib import admin

from accounts.admin import ReadOnlyAdmin

from .models import Deployment, DeploymentEvent, Rollout

# Read-only: rollouts change through the deployer (audited), and their logs never change.


class DeploymentInline(admin.TabularInline):
    model = Deployment
    fields = ("step", "region", "action", "status", "change_set_name", "started_at",
              "finished_at", "explanation")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Rollout)
class RolloutAdmin(ReadOnlyAdmin):
    list_display = ("id", "application", "kind", "status", "requested_by", "created_at",
                    "finished_at")
    list_filter = ("status", "kind")
    search_fields = ("application__slug",)
    inlines = [DeploymentInline]


@admin.register(Deployment)
class DeploymentAdmin(ReadOnlyAdmin):
    list_display = ("id", "rollout", "region", "step", "action", "status", "started_at",
                    "finished_at")
    list_filter = ("status", "action")


@admin.register(DeploymentEvent)
class DeploymentEventAdmin(ReadOnlyAdmin):
    list_display = ("deployment", "seq", "created_at", "source", "level", "resource", "status")
    list_filter = ("source", "level")
