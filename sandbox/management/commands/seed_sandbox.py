from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.audit import Actor
from accounts.models import AuditSource
from lib import aws
from regions import services
from regions.models import Application, Source
from sandbox.services import ZONE, sandbox_zone_id

DEMO = {
    "slug": "demo",
    "name": "Demo (sandbox)",
    "domain_name": f"api.{ZONE}",
    "table_name": "demo-items",
    "main_region": "us-east-1",
    "account_id": "123456789012",
    "source": Source.SANDBOX,
}
DEMO_REPLICAS = ("eu-west-1", "ap-southeast-2")


class Command(BaseCommand):
    help = "Create the sandbox hosted zone and a demo application with three regions (once)."

    def handle(self, *args, **options):
        if not settings.SANDBOX:
            raise CommandError("seed_sandbox only runs in sandbox mode (SANDBOX=1).")
        try:
            zone_id = sandbox_zone_id()
        except aws.AwsError as exc:
            raise CommandError(f"Cannot reach the local AWS: {exc}") from None
        application = Application.objects.filter(slug=DEMO["slug"]).first()
        actor = Actor(get_user_model().objects.filter(username="admin").first(),
                               AuditSource.CLI)
        try:
            if application is None:
                application = services.create_application(
                    {**DEMO, "hosted_zone_id": zone_id}, actor
                )
                for code in DEMO_REPLICAS:
                    services.add_region(application, code, actor)
                self.stdout.write(f"Created the demo application {application.slug!r} with "
                                  f"regions {DEMO['main_region']}, {', '.join(DEMO_REPLICAS)}.")
            # The local AWS starts empty each time: point applications in the sandbox zone
            # at today's zone before their stacks are recreated.
            stale = Application.objects.filter(domain_name__endswith=f".{ZONE}").exclude(
                hosted_zone_id=zone_id)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        for other in stale:
            try:
                services.update_application(other, {"hosted_zone_id": zone_id}, actor)
            except ValidationError as exc:
                self.stderr.write(f"{other.slug}: cannot move it to zone {zone_id}: "
                                  f"{' '.join(exc.messages)}")
                continue
            self.stdout.write(f"{other.slug} now uses sandbox zone {zone_id}.")
