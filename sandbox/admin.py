from django.contrib import admin

from accounts.admin import ReadOnlyAdmin

from .models import SandboxFault


@admin.register(SandboxFault)
class SandboxFaultAdmin(ReadOnlyAdmin):
    list_display = ("region", "kind", "started_at", "started_by")
