"""Operators and roles: viewer < operator < admin, deny by default."""

from functools import wraps

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

VIEWER = "viewer"
OPERATOR = "operator"
ADMIN = "admin"
ROLES = (VIEWER, OPERATOR, ADMIN)
_RANK = {None: 0, VIEWER: 1, OPERATOR: 2, ADMIN: 3}
# Apps whose models the admin role may change in the Django admin, with users, groups and
# login lockouts.
PROJECT_APPS = ("accounts", "regions", "watch", "sandbox", "deployer", "traffic", "auth", "axes")


def role_of(user) -> str | None:
    """The highest role a user holds, or None (no access at all)."""
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return None
    if not user.is_active:
        return None
    if user.is_superuser:
        return ADMIN
    cached = getattr(user, "_meridian_role", "unset")
    if cached != "unset":
        return cached
    names = set(user.groups.values_list("name", flat=True))
    role = next((r for r in reversed(ROLES) if r in names), None)
    user._meridian_role = role
    return role


def has_role(user, needed: str) -> bool:
    return _RANK[role_of(user)] >= _RANK[needed]


def can_view(user) -> bool:
    return has_role(user, VIEWER)


def can_operate(user) -> bool:
    return has_role(user, OPERATOR)


def can_administer(user) -> bool:
    return has_role(user, ADMIN)


def role_required(role: str):
    """Deny by default: a view runs only for users holding at least `role`."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not has_role(request.user, role):
                raise PermissionDenied(f"This needs the {role} role.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def ensure_role_groups(**kwargs) -> None:
    """Create the three role groups and give the admin group every permission of the
    project's models and of users (also run after every migrate, for models added later)."""
    from django.contrib.auth.models import Group, Permission

    for name in ROLES:
        Group.objects.get_or_create(name=name)
    admin = Group.objects.get(name=ADMIN)
    admin.permissions.add(
        *Permission.objects.filter(content_type__app_label__in=PROJECT_APPS)
    )
