from django.conf import settings

from . import permissions


def meridian(request):
    user = getattr(request, "user", None)
    return {
        "sandbox": settings.SANDBOX,
        "user_role": permissions.role_of(user),
        "can_operate": permissions.can_operate(user),
        "can_administer": permissions.can_administer(user),
    }
