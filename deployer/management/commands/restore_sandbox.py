"""`manage.py restore_sandbox`: redeploy into a freshly started local AWS what the inventory
says is deployed (`make run` calls it; the emulator keeps its state in memory only)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.audit import Actor
from deployer import rollouts
from deployer.cloudformation import stack_missing
from deployer.planning import DEPLOYED_STATES
from lib import aws
from regions.models import Application


def stack_exists(application, region) -> bool:
    client = aws.client("cloudformation", region.code, application)
    try:
        stacks = client.describe_stacks(StackName=region.stack_name)["Stacks"]
    except Exception as exc:
        error = aws.AwsError.wrap(exc, service="cloudformation", region=region.code)
        if stack_missing(error):
            return False
        raise error from exc
    # A stack that only holds change sets that never ran was never deployed.
    return any(s.get("StackStatus") not in ("DELETE_COMPLETE", "REVIEW_IN_PROGRESS")
               for s in stacks)


class Command(BaseCommand):
    help = "Sandbox only: redeploy applications whose stacks the fresh local AWS has lost."

    def handle(self, *args, **options):
        if not settings.SANDBOX:
            raise CommandError("restore_sandbox only runs in sandbox mode (SANDBOX=1).")
        for application in Application.objects.order_by("slug"):
            main = application.regions.filter(code=application.main_region,
                                              state__in=DEPLOYED_STATES).first()
            if main is None:
                continue
            try:
                if stack_exists(application, main):
                    continue
            except aws.AwsError as exc:
                self.stderr.write(f"{application.slug}: cannot check its stacks: {exc}")
                continue
            try:
                rollout = rollouts.start_deploy(application, None, Actor(None, "system"))
            except rollouts.Conflict as exc:
                self.stdout.write(f"{application.slug}: {exc}")
                continue
            self.stdout.write(f"{application.slug}: the local AWS started empty; redeploying "
                              f"its regions (rollout {rollout.pk}).")
