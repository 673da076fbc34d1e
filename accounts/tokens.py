"""Revoking API tokens: one audited path for the profile page and the admin."""

from django.db import transaction
from django.utils import timezone

from .audit import Actor, record
from .models import ApiToken


def revoke(token: ApiToken, actor: Actor) -> bool:
    """Revoke a token once; False when it was already revoked. A token is never un-revoked."""
    with transaction.atomic():
        now = timezone.now()
        if not ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=now):
            return False
        token.revoked_at = now
        record(actor, "token.revoke", token,
               before={"name": token.name, "prefix": token.key_prefix,
                       "user": token.user.get_username()})
    return True
