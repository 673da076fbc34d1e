from django.contrib import admin

from accounts.admin import ReadOnlyAdmin

from .models import HealthChange, PollState


@admin.register(PollState)
class PollStateAdmin(ReadOnlyAdmin):
    list_display = ("key", "last_success_at", "last_error_at", "error_code")
    search_fields = ("key",)


@admin.register(HealthChange)
class HealthChangeAdmin(ReadOnlyAdmin):
    list_display = ("region", "at", "healthy", "previous")
    list_filter = ("healthy",)
