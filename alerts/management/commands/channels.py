"""`manage.py channels list|add|remove|test` — alert channels for scripts, with the web's rules."""

import json

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.audit import Actor
from accounts.models import AuditSource
from accounts.roles import ADMIN, has_role
from alerts import services
from alerts.models import Channel


class Command(BaseCommand):
    help = "List, add, remove or test alert channels."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        ls = sub.add_parser("list", help="List channels (URLs masked).")
        ls.add_argument("--json", action="store_true", help="Print JSON.")
        add = sub.add_parser("add", help="Add a channel.")
        add.add_argument("name")
        add.add_argument("url", help="An apprise URL, e.g. slack://… or json://host/path.")
        add.add_argument("--application", action="append", default=[], dest="applications",
                         help="Only this application (repeat for more; default: all).")
        add.add_argument("--event", action="append", default=[], dest="events",
                         help="Only this event (repeat for more; default: all).")
        for name, text in (("remove", "Remove a channel."),
                           ("test", "Send a test message now and print the result.")):
            p = sub.add_parser(name, help=text)
            p.add_argument("name")
        for p in (add, *[sub.choices[n] for n in ("remove", "test")]):
            p.add_argument("--user", required=True,
                           help="Username the change is recorded under (needs the admin role).")

    def handle(self, *args, **options):
        if options["action"] == "list":
            return self._list(options["json"])
        actor = self._actor(options["user"])
        try:
            if options["action"] == "add":
                channel = services.create_channel(
                    {"name": options["name"], "url": options["url"],
                     "applications": options["applications"], "events": options["events"]},
                    actor)
                self.stdout.write(f"Added channel {channel.name} ({channel.masked_url}).")
                return
            channel = Channel.objects.filter(name=options["name"]).first()
            if channel is None:
                raise CommandError(f"There is no channel {options['name']!r}.")
            if options["action"] == "remove":
                services.delete_channel(channel, actor)
                self.stdout.write(f"Removed channel {channel.name}.")
                return
            row = services.test_channel(channel, actor, queue=False)
        except ValidationError as exc:
            raise CommandError(" ".join(f"{k}: {' '.join(v)}" if k != "__all__" else " ".join(v)
                                        for k, v in exc.message_dict.items())) from None
        if row.status != "sent":
            raise CommandError(f"The test message to {channel.name} failed: {row.last_error}")
        self.stdout.write(f"Test message sent to {channel.name} ({channel.masked_url}).")

    def _list(self, as_json: bool) -> None:
        channels = list(Channel.objects.all())
        if as_json:
            self.stdout.write(json.dumps([
                {"name": c.name, "url": c.masked_url, "applications": c.applications,
                 "events": c.events, "enabled": c.enabled} for c in channels], indent=2))
            return
        for c in channels:
            scope = ", ".join(c.applications) or "all applications"
            events = ", ".join(c.events) or "all events"
            state = "" if c.enabled else " (disabled)"
            self.stdout.write(f"{c.name}{state}: {c.masked_url} — {scope}; {events}")
        if not channels:
            self.stdout.write("No channels.")

    def _actor(self, username: str) -> Actor:
        user = get_user_model().objects.filter(username=username).first()
        if user is None or not has_role(user, ADMIN):
            raise CommandError(f"{username!r} is not a user with the admin role.")
        return Actor(user, AuditSource.CLI)
