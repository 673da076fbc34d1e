"""`manage.py regions list|add|remove` — the inventory for scripts, with the web's rules."""

import json

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.audit import Actor
from accounts.models import AuditSource
from lib import aws
from regions import services
from regions.models import Application, RegionState


class Command(BaseCommand):
    help = "List, add or remove the regions of an application."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        ls = sub.add_parser("list", help="List applications and regions.")
        ls.add_argument("application", nargs="?", help="Application slug (default: all).")
        ls.add_argument("--json", action="store_true", help="Print JSON.")
        for name in ("add", "remove"):
            p = sub.add_parser(name, help=f"{name.capitalize()} a region.")
            p.add_argument("application", help="Application slug.")
            p.add_argument("code", help="Region code, e.g. eu-west-1.")
            p.add_argument("--user", required=True,
                           help="Username the change is recorded under (needs the operator role).")
            if name == "add":
                p.add_argument("--check-enabled", action="store_true",
                               help="Check with EC2 DescribeRegions that the region is enabled.")

    def handle(self, *args, **options):
        action = options["action"]
        if action == "list":
            return self._list(options)
        application = self._application(options["application"])
        actor = self._actor(options["user"])
        code = options["code"]
        try:
            if action == "add":
                if options.get("check_enabled"):
                    problem = aws.check_region_enabled(code, application)
                    if problem:
                        raise CommandError(problem)
                region = services.add_region(application, code, actor)
                self.stdout.write(f"Added {region.code} to {application.slug} as "
                                  f"{region.role} ({region.state}).")
            else:
                region = services.remove_region(application, code, actor)
                if region is None:
                    self.stdout.write(f"Removed {code} from {application.slug} (never deployed).")
                else:
                    self.stdout.write(f"{code} of {application.slug} is being removed; the next "
                                      "deploy removes its stack and then its replica.")
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None

    def _application(self, slug: str) -> Application:
        application = Application.objects.filter(slug=slug).first()
        if application is None:
            raise CommandError(f"No application with slug {slug!r}.")
        return application

    def _actor(self, username: str) -> Actor:
        from accounts.roles import can_operate

        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not can_operate(user):
            raise CommandError(f"{username} does not have the operator role.")
        return Actor(user, AuditSource.CLI)

    def _list(self, options):
        apps = Application.objects.prefetch_related("regions")
        if options.get("application"):
            apps = apps.filter(slug=options["application"])
            if not apps:
                raise CommandError(f"No application with slug {options['application']!r}.")
        rows = [
            {
                "application": app.slug,
                "code": r.code,
                "role": r.role,
                "state": r.state,
                "health_check_id": r.health_check_id,
            }
            for app in apps
            for r in app.regions.all()
            if r.state != RegionState.REMOVED
        ]
        if options.get("json"):
            self.stdout.write(json.dumps(rows, indent=2))
            return
        self.stdout.write(f"{'APPLICATION':<20} {'REGION':<16} {'ROLE':<8} {'STATE':<13} HEALTH CHECK")
        for row in rows:
            self.stdout.write(f"{row['application']:<20} {row['code']:<16} {row['role']:<8} "
                              f"{row['state']:<13} {row['health_check_id'] or '-'}")
