from django.contrib import admin

from .models import Deployment, DeploymentEvent, Rollout


class DeploymentInline(admin.TabularInline):
    model = Deployment
    fields = ("step", "region", "action", "status", "change_set_name", "started_at",
              "finished_at", "explanation")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Rollout)
class RolloutAdmin(admin.ModelAdmin):
    list_display = ("id", "application", "kind", "status", "requested_by", "created_at",
                    "finished_at")
    list_filter = ("status", "kind")
    search_fields = ("application__slug",)
    readonly_fields = ("created_at", "started_at", "applied_at", "finished_at", "heartbeat_at",
                       "task_id", "synth_key")
    inlines = [DeploymentInline]


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):
    list_display = ("id", "rollout", "region", "step", "action", "status", "started_at",
                    "finished_at")
    list_filter = ("status", "action")
    readonly_fields = ("template", "changes", "outputs", "heartbeat_at", "executed_at",
                       "baseline_event_id", "task_id")


@admin.register(DeploymentEvent)
class DeploymentEventAdmin(admin.ModelAdmin):
    list_display = ("deployment", "seq", "created_at", "source", "level", "resource", "status")
    list_filter = ("source", "level")
    readonly_fields = [f.name for f in DeploymentEvent._meta.fields]
