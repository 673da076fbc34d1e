"""manage.py traffic APP REGION drain|restore|force [--reason TEXT]"""

from django.core.management.base import BaseCommand, CommandError

from accounts.audit import Actor
from regions.models import Application
from traffic import services
from traffic.models import ChangeStatus


class Command(BaseCommand):
    help = ("Drain a region (Route 53 stops answering with it), restore it, or force it to "
            "serve whatever its health check says. Exits non-zero when refused or failed.")

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("region")
        parser.add_argument("action", choices=["drain", "restore", "force"])
        parser.add_argument("--reason", default="", help="Why: kept in the audit trail.")

    def handle(self, slug, region, action, reason, **options):
        application = Application.objects.filter(slug=slug).first()
        if application is None:
            raise CommandError(f"There is no application {slug!r}.")
        try:
            change = services.change_traffic(application, region, action, Actor(None, "cli"),
                                             reason)
        except services.TrafficError as exc:
            raise CommandError(str(exc)) from None
        if change.status == ChangeStatus.FAILED:
            raise CommandError(services.failure_message(change))
        took = change.seconds_to_route53
        self.stdout.write(
            f"{region} of {slug} is now {change.get_to_state_display().lower()} "
            f"(through {change.get_path_display().lower()}"
            + (f"; Route 53 updated {took:.2f} s after the request" if took is not None else "")
            + ").")
        for error in (change.route53_error, change.cloudwatch_error):
            if error:
                self.stderr.write(f"Note: {error}")
