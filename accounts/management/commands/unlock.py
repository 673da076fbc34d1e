from django.core.management.base import BaseCommand, CommandError

from accounts.audit import Actor
from accounts.lockouts import unlock
from accounts.models import AuditSource


class Command(BaseCommand):
    help = ("Lift a login lockout before its cool-off ends: forget the failed logins of a user "
            "name, of a client address (--address), or of both.")

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", default="")
        parser.add_argument("--address", default="", help="A client IP address.")

    def handle(self, *args, username: str, address: str, **options):
        if not username and not address:
            raise CommandError("Name a user, an --address, or both.")
        count = unlock(Actor(None, AuditSource.CLI), username=username, address=address)
        who = " at ".join(part for part in (username, address) if part)
        if count:
            self.stdout.write(f"Unlocked {who}: {count} failed-login record(s) forgotten.")
        else:
            self.stdout.write(f"{who} has no failed logins to forget.")
