"""Operators and roles: viewer < operator < admin, deny by default."""

from django.contrib.auth.models import AnonymousUser

VIEWER = "viewer"
OPERATOR = "operator"
ADMIN = "admin"
ROLES = (VIEWER, OPERATOR, ADMIN)
_RANK = {None: 0, VIEWER: 1, OPERATOR: 2, ADMIN: 3}


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


def ensure_role_groups(**kwargs) -> None:
    """Create the three role groups and give the admin group every permission of the
    project's models and of users (also run after every migrate, for models added later)."""
    from django.contrib.auth.models import Group, Permission

    for name in ROLES:
        Group.objects.get_or_create(name=name)
    admin = Group.objects.get(name=ADMIN)
    admin.permissions.add(
        *Permission.objects.filter(content_type__app_label__in=["regions", "deployer", "auth"])
    )
