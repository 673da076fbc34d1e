from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.models import ApiToken


class Command(BaseCommand):
    help = "Issue an API token for a user and print it once; only its hash is stored."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for, e.g. ci.")

    def handle(self, *args, username: str, name: str, **options):
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist:
            raise CommandError(f"There is no user {username!r}.") from None
        if not user.is_active:
            raise CommandError(f"The user {username!r} is inactive; a token would not work.")
        limit = ApiToken._meta.get_field("name").max_length
        name = name or f"token for {username}"[:limit]
        if len(name) > limit:
            raise CommandError(f"A token name has {limit} characters at most.")
        token, key = ApiToken.issue(user, name)
        self.stderr.write(
            f"Token {token.name!r} for {username}; it is shown once, store it now:"
        )
        self.stdout.write(key)
