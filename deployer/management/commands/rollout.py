"""manage.py rollout approve|cancel|rollback ROLLOUT_ID"""

from django.core.management.base import BaseCommand, CommandError

from accounts.audit import Actor
from deployer import rollouts
from deployer.models import Rollout


class Command(BaseCommand):
    help = ("Act on a rollout: approve the regions after the main one, cancel it, or roll "
            "back to it (a new rollout that applies its templates again, planned for review).")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["approve", "cancel", "rollback"])
        parser.add_argument("rollout", type=int)

    def handle(self, action, rollout, **options):
        found = Rollout.objects.select_related("application").filter(pk=rollout).first()
        if found is None:
            raise CommandError(f"There is no rollout {rollout}.")
        act = {"approve": rollouts.approve, "cancel": rollouts.cancel,
               "rollback": rollouts.start_rollback}[action]
        try:
            result = act(found, None, Actor(None, "cli"))
        except (rollouts.Conflict, rollouts.NotAllowed) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Rollout {result.pk}: {result.status_label.lower()}. "
                          f"{result.get_absolute_url()}")
