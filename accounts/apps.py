from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and audit"

    def ready(self):
        from axes.signals import user_locked_out

        from .lockouts import on_locked_out
        from .roles import ensure_role_groups

        user_locked_out.connect(on_locked_out, dispatch_uid="accounts.on_locked_out")

        # Sent once per app, after auth has created that app's permissions: the last call
        # sees them all.
        post_migrate.connect(ensure_role_groups, dispatch_uid="accounts.ensure_role_groups")
