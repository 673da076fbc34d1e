"""`manage.py sandbox outage|lag|restore REGION` and `sandbox emit` — rehearse an outage."""

from django.core.management.base import BaseCommand, CommandError

from accounts.audit import Actor
from accounts.models import AuditSource
from sandbox import emitter, services
from sandbox.models import FaultKind


class Command(BaseCommand):
    help = "Simulate an outage or replication lag in a sandbox region, restore it, or emit once."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["outage", "lag", "restore", "emit"])
        parser.add_argument("region", nargs="?", help="Region code, e.g. eu-west-1.")
        parser.add_argument("--application", help="Application slug, when the region is in several.")

    def handle(self, *args, action, region, application, **options):
        try:
            emitter.require_sandbox()
        except emitter.SandboxOnly as exc:
            raise CommandError(str(exc)) from None
        if action == "emit":
            report = emitter.emit()
            for key, healthy in sorted(report.health.items()):
                self.stdout.write(f"health  {key:<40} {'healthy' if healthy else 'UNHEALTHY'}")
            for key, ms in sorted(report.lag.items()):
                self.stdout.write(f"lag     {key:<40} {ms:>9.0f} ms")
            self.stdout.write(f"{report.calls} AWS calls")
            for error in report.errors:
                self.stderr.write(f"error: {error}")
            if report.errors:
                raise CommandError("Some metrics could not be published.")
            return
        if not region:
            raise CommandError(f"sandbox {action} needs a region code.")
        try:
            target = services.find_region(region, application)
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        actor = Actor(None, AuditSource.CLI)
        if action == "restore":
            kinds = services.restore(target, actor)
            if kinds:
                self.stdout.write(f"Restored {target}: ended {', '.join(kinds)}.")
            else:
                self.stdout.write(f"{target} had no simulated fault.")
            return
        kind = FaultKind.OUTAGE if action == "outage" else FaultKind.LAG
        if services.inject(target, kind, actor):
            self.stdout.write(f"Simulating {kind.label.lower()} in {target}. "
                              f"`manage.py sandbox restore {target.code}` ends it.")
        else:
            self.stdout.write(f"{target} already simulates {kind.label.lower()}.")
