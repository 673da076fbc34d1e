from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import roles
from accounts.audit import Actor, record
from accounts.models import AuditSource


class Command(BaseCommand):
    help = "Give a user one role (viewer, operator, admin) or none; admins may use the Django admin."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("role", choices=[*roles.ROLES, "none"])

    @transaction.atomic
    def handle(self, *args, username, role, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        before = sorted(user.groups.values_list("name", flat=True))
        user.groups.remove(*Group.objects.filter(name__in=roles.ROLES))
        if role != "none":
            user.groups.add(Group.objects.get(name=role))
        user.is_staff = role == roles.ADMIN
        user.save(update_fields=["is_staff"])
        record(Actor(None, AuditSource.CLI), "user.role", user,
                        before={"roles": before}, after={"roles": [] if role == "none" else [role]})
        self.stdout.write(f"{username} now has the role {role}.")
