"""Login throttling with django-axes: the lockout page, its audit rows, and lifting a lockout.

A user name, or a client address, is locked after AXES_FAILURE_LIMIT failed logins in a row
for AXES_COOLOFF_TIME; `manage.py unlock` and the admin's Unlock action lift it sooner."""

import hashlib
from dataclasses import dataclass

from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.db import transaction
from django.shortcuts import render
from django.utils import timezone

from .audit import Actor, record

# Bumped by every unlock, so a lockout after an unlock is audited again.
GENERATION_KEY = "accounts:lockout-generation"


@dataclass(frozen=True)
class LoginName:
    """The user name (or address) a lockout is about; it may name no user at all."""

    name: str
    pk = None

    def __str__(self) -> str:
        return self.name


def cooloff_minutes() -> int:
    return max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))


def lockout_message() -> str:
    return (
        f"Too many failed logins for this account or from this address: logging in is locked "
        f"for {cooloff_minutes()} minutes. An admin can lift the lock sooner "
        "(manage.py unlock USER)."
    )


def lockout_response(request, original_response=None, credentials=None):
    """The login page again, saying why it refuses, with 429 and when to come back."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username[:150]})
    response = render(request, "accounts/login.html",
                      {"form": form, "locked": lockout_message(),
                       "next": request.POST.get("next", "")}, status=429)
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response


def _first_time(username: str, address: str) -> bool:
    """True once per lockout of this name at this address (axes signals every refused try)."""
    cache.add(GENERATION_KEY, 0, None)
    generation = cache.get(GENERATION_KEY, 0)
    digest = hashlib.sha256(f"{generation}\0{username}\0{address}".encode()).hexdigest()
    return cache.add(f"accounts:lockout-audited:{digest}", 1,
                     settings.AXES_COOLOFF_TIME.total_seconds())


def on_locked_out(sender, request, username, ip_address, **kwargs) -> None:
    username = (username or "")[:150]
    if request is None or not _first_time(username, ip_address or ""):
        return
    record(Actor.from_request(request), "login.lockout", LoginName(username or "(no name)"),
           after={"username": username, "address": ip_address,
                  "failures": settings.AXES_FAILURE_LIMIT, "minutes": cooloff_minutes()})


def locked_now(limit: int = 10) -> list[AccessAttempt]:
    """The newest attempt records that keep a user name or an address locked at this moment."""
    return list(AccessAttempt.objects.filter(
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
        attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME,
    ).order_by("-attempt_time")[:limit])


def unlock(actor: Actor, *, username: str = "", address: str = "") -> int:
    """Forget the failed logins of a user name and/or an address; audited when there were any.
    Returns how many attempt records were removed."""
    if not username and not address:
        raise ValueError("Name a user or an address to unlock.")
    with transaction.atomic():
        count = reset(ip=address or None, username=username or None)
        if count:
            record(actor, "login.unlock", LoginName(username or address),
                   before={"username": username or None, "address": address or None,
                           "records": count})
    if count:
        cache.add(GENERATION_KEY, 0, None)
        cache.incr(GENERATION_KEY)
    return count
