import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from accounts.roles import ensure_role_groups


class Command(BaseCommand):
    help = ("Make sure an admin user exists (for a first run). Prints the login; the generated "
            "password is kept in var/admin-password so a second run prints the same one.")

    def add_arguments(self, parser):
        parser.add_argument("--username", default=settings.MERIDIAN_ADMIN_USER)

    def handle(self, *args, username, **options):
        ensure_role_groups()
        User = get_user_model()
        path = Path(settings.VAR_DIR) / "admin-password"
        user = User.objects.filter(username=username).first()
        if user is None:
            password = settings.MERIDIAN_ADMIN_PASSWORD or secrets.token_urlsafe(12)
            user = User.objects.create_user(username, password=password, is_staff=True)
            user.groups.add(Group.objects.get(name="admin"))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(password)
            path.chmod(0o600)
            self.stdout.write(f"Created the admin user {username!r}.")
        password = path.read_text().strip() if path.exists() else "(set by you earlier)"
        self.stdout.write(f"Log in as user {username!r} with password {password!r}.")
