from django.conf import settings

from . import roles


def meridian(request):
    user = getattr(request, "user", None)
    return {
        "sandbox": settings.SANDBOX,
        "user_role": roles.role_of(user),
        "can_operate": roles.can_operate(user),
        "can_administer": roles.can_administer(user),
    }
