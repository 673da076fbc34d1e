"""manage.py bootstrap APP_SLUG [--region CODE] [--wait]"""

import argparse

from django.core.management.base import CommandError

from accounts.audit import Actor
from deployer import rollouts
from deployer.bootstrap import region_status
from deployer.management.commands.deploy import Command as DeployCommand
from deployer.models import Status
from regions.models import Application


class Command(DeployCommand):
    help = ("Deploy the CDK bootstrap stack (CDKToolkit) to every region of an application, or "
            "one (a worker on the deploys queue runs it). With --wait, print the log as it "
            "comes and exit non-zero unless every region ends bootstrapped.")

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--region", default="", help="Only this region.")
        parser.add_argument("--wait", action="store_true",
                            help="Follow the rollout to its end, printing its log.")
        parser.add_argument("--poll", type=float, default=1.0, help=argparse.SUPPRESS)

    def handle(self, slug, region, wait, poll, **options):
        application = Application.objects.filter(slug=slug).first()
        if application is None:
            raise CommandError(f"There is no application {slug!r}.")
        if region and not application.regions.filter(code=region).exists():
            raise CommandError(f"{region} is not a region of {slug}.")
        try:
            rollout = rollouts.start_bootstrap(application, None, Actor(None, "cli"), region)
        except rollouts.Conflict as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Rollout {rollout.pk} (bootstrap) of {slug} queued: "
                          f"{rollout.get_absolute_url()}")
        if not wait:
            return
        rollout = self.follow(rollout, False, poll)
        self.stdout.write(f"Rollout {rollout.pk} {rollout.status}."
                          + (f" {rollout.explanation}" if rollout.explanation else ""))
        missing = []
        for d in rollout.deployments.select_related("region__application"):
            status = region_status(d.region)
            self.stdout.write(f"{d.region.code}: {status.text}")
            if not status.ok:
                missing.append(d.region.code)
        if rollout.status != Status.SUCCEEDED:
            raise CommandError(f"Rollout {rollout.pk} ended {rollout.status}.")
        if missing or not rollout.deployments.exists():
            raise CommandError(f"Not bootstrapped: {', '.join(missing) or 'no region'}.")
