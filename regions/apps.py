from django.apps import AppConfig
from django.db.models.signals import post_migrate


class RegionsConfig(AppConfig):
    name = "regions"
    verbose_name = "Inventory"

    def ready(self):
        from .permissions import ensure_role_groups

        # Sent once per app, after auth has created that app's permissions: the last call
        # sees them all.
        post_migrate.connect(ensure_role_groups, dispatch_uid="regions.ensure_role_groups")
