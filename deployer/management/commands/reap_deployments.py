from django.core.management.base import BaseCommand

from deployer import reaper


class Command(BaseCommand):
    help = ("Settle deployments left running by a lost worker, from CloudFormation's stack "
            "status (the periodic task reap_deployments does the same).")

    def handle(self, **options):
        for line in reaper.reap():
            self.stdout.write(line)
