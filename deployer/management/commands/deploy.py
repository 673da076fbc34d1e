"""manage.py deploy APP_SLUG [--region CODE] [--label TEXT] [--approval|--no-approval]
[--plan-only] [--wait]"""

import argparse
import time

from django.core.management.base import BaseCommand, CommandError

from accounts.audit import Actor
from deployer import rollouts
from deployer.models import FINISHED, DeploymentEvent, Rollout, RolloutKind, Status
from regions.models import Application

# A plan-only rollout has done its work when it is planned.
PLAN_DONE = (Status.PLANNED, Status.AWAITING_CONFIRMATION)


class Command(BaseCommand):
    help = ("Plan and deploy an application (a worker on the deploys queue runs it). With "
            "--wait, print the log as it comes and exit non-zero unless it succeeds.")

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--region", default="", help="Only this region's steps.")
        parser.add_argument("--label", default="",
                            help="A release label, shown on the rollout and passed to the app.")
        parser.add_argument("--approval", action=argparse.BooleanOptionalAction, default=None,
                            help="Wait for approval after the main region (default: the "
                                 "application's setting).")
        parser.add_argument("--plan-only", action="store_true",
                            help="Create the change sets; execute nothing.")
        parser.add_argument("--wait", action="store_true",
                            help="Follow the rollout to its end, printing its log.")
        parser.add_argument("--poll", type=float, default=1.0, help=argparse.SUPPRESS)

    def handle(self, slug, region, label, approval, plan_only, wait, poll, **options):
        application = Application.objects.filter(slug=slug).first()
        if application is None:
            raise CommandError(f"There is no application {slug!r}.")
        kind = RolloutKind.PLAN if plan_only else RolloutKind.DEPLOY
        try:
            rollout = rollouts.start_rollout(application, None, kind, Actor(None, "cli"),
                                             only_region=region, label=label,
                                             require_approval=approval)
        except (rollouts.Conflict, rollouts.Refused) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Rollout {rollout.pk} ({kind}) of {slug}"
                          + (f", {region} only" if region else "")
                          + (f", release {label.strip()}" if label.strip() else "")
                          + f" queued: {rollout.get_absolute_url()}")
        if not wait:
            return
        rollout = self.follow(rollout, plan_only, poll)
        self.stdout.write(f"Rollout {rollout.pk} {rollout.status}."
                          + (f" {rollout.explanation}" if rollout.explanation else ""))
        ok = rollout.status in PLAN_DONE if plan_only else rollout.status == Status.SUCCEEDED
        if not ok:
            raise CommandError(f"Rollout {rollout.pk} ended {rollout.status}.")

    def follow(self, rollout: Rollout, plan_only: bool, poll: float) -> Rollout:
        after = 0
        while True:
            rollout.refresh_from_db()
            events = list(DeploymentEvent.objects.filter(deployment__rollout=rollout, pk__gt=after)
                          .select_related("deployment__region").order_by("pk"))
            for e in events:
                text = " ".join(p for p in (e.status, e.resource, e.message) if p)
                self.stdout.write(f"[{e.deployment.region.code}] {e.created_at:%H:%M:%S} "
                                  f"{e.source}: {text}")
                after = e.pk
            if rollout.status in FINISHED or (plan_only and rollout.status in PLAN_DONE) or (
                    rollout.status == Status.AWAITING_CONFIRMATION):
                if not events:
                    return rollout
                continue
            time.sleep(poll)

