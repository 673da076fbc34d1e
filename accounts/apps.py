from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and audit"

    def ready(self):
        from .roles import ensure_role_groups

        # Sent once per app, after auth has created that app's permissions: the last call
        # sees them all.
        post_migrate.connect(ensure_role_groups, dispatch_uid="accounts.ensure_role_groups")
