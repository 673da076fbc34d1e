"""What the application overview page shows of rollouts, through one small function."""

from regions import permissions

from .models import ACTIVE, Rollout


def last_rollout(application) -> Rollout | None:
    return application.rollouts.select_related("requested_by").first()


def rollout_buttons_context(application, user) -> dict:
    active = application.rollouts.filter(status__in=ACTIVE).first()
    return {
        "can_deploy": permissions.can_operate(user),
        "active_rollout": active,
    }


def overview_context(application, user) -> dict:
    """Context for templates/deployer/_application_rollouts.html on the overview page:

    rollouts_partial: the template to include ("deployer/_application_rollouts.html");
    last_rollout: the newest Rollout or None; active_rollout: the running one or None;
    can_deploy: whether the user may press Plan and Deploy (operators and admins).
    """
    return {
        "rollouts_partial": "deployer/_application_rollouts.html",
        "last_rollout": last_rollout(application),
        **rollout_buttons_context(application, user),
    }
