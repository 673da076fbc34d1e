"""manage.py drill APP REGION --minutes N [--wait]"""

import time

from django.core.management.base import BaseCommand, CommandError

from accounts.audit import Actor
from regions.models import Application
from traffic import drills, services
from traffic.models import Drill, DrillStatus


class Command(BaseCommand):
    help = ("Drill a region: drain it for N minutes (decimals allowed), measure how long DNS "
            "takes to move its clients, then restore it by itself (a worker and beat do). "
            "--wait prints the timeline until it ends. Exits non-zero when refused or failed.")

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("region")
        parser.add_argument("--minutes", type=float, default=5.0)
        parser.add_argument("--wait", action="store_true",
                            help="Follow the drill until it has ended.")

    def handle(self, slug, region, minutes, wait, **options):
        application = Application.objects.filter(slug=slug).first()
        if application is None:
            raise CommandError(f"There is no application {slug!r}.")
        try:
            drill = drills.start(application, region, minutes, Actor(None, "cli"))
        except services.TrafficError as exc:
            raise CommandError(str(exc)) from None
        if drill.status == DrillStatus.FAILED:
            raise CommandError(drill.explanation)
        self.stdout.write(f"{drill} started: {region} is drained until "
                          f"{drill.ends_at:%H:%M:%S} UTC, then restores by itself.")
        if not wait:
            return
        shown = 0
        while True:
            drill = Drill.objects.get(pk=drill.pk)
            events = list(drill.events.all())
            for e in events[shown:]:
                self.stdout.write(f"+{e.seconds_after():7.1f} s  {e.get_kind_display()}: "
                                  f"{e.message}")
            shown = len(events)
            if drill.status != DrillStatus.RUNNING:
                break
            time.sleep(1)
        self.stdout.write(f"{drill}: {drill.get_status_display().lower()}. {drill.explanation}")
        if drill.status == DrillStatus.FAILED:
            raise CommandError(drill.explanation)
