"""Run one poll cycle now and print what it read."""

from django.core.management.base import BaseCommand

from watch import pollers
from watch.models import is_healthy


def _lag(value) -> str:
    if value is None:
        return "no data"
    at, ms = value
    return f"{ms:.0f} ms at {at:%H:%M} UTC"


class Command(BaseCommand):
    help = "Poll Route 53 health, DynamoDB replication lag and replica state once, and print it."

    def handle(self, *args, **options):
        report = pollers.poll_cycle()
        self.stdout.write("Health")
        for name, health in sorted(report.health.items()):
            if health["status"] is None:
                self.stdout.write(f"  {name}: no data")
                continue
            state = "healthy" if is_healthy(health["status"]) else "unhealthy"
            share = health["percentage_healthy"]
            share_text = "" if share is None else f", {share:.0f}% of checkers healthy"
            self.stdout.write(f"  {name}: {state}{share_text} at {health['at']:%H:%M} UTC")
        self.stdout.write("Replication lag")
        for (slug, source, receiving), value in sorted(report.lags.items()):
            self.stdout.write(f"  {slug} {source} -> {receiving}: {_lag(value)}")
        self.stdout.write("Replicas")
        for slug, detail in sorted(report.replicas.items()):
            if not detail["reported"]:
                self.stdout.write(f"  {slug}: table {detail['table_status']}, replicas not reported")
                continue
            listed = ", ".join(f"{code} {status}" for code, status in detail["replicas"].items())
            self.stdout.write(f"  {slug}: table {detail['table_status']}; {listed}")
        self.stdout.write(f"Calls made: {len(report.calls)}")
        for call in report.calls:
            self.stdout.write(f"  {call}")
        if report.errors:
            self.stdout.write(self.style.ERROR(f"Errors: {len(report.errors)}"))
            for key, message in report.errors:
                self.stdout.write(self.style.ERROR(f"  {key}: {message}"))
        else:
            self.stdout.write(self.style.SUCCESS("Errors: none"))
