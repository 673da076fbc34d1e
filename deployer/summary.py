"""What the application overview page shows of rollouts, through one small function."""

from django.db.models import Max

from accounts import roles

from .models import ACTIVE, Deployment, Rollout, Status


def last_rollout(application) -> Rollout | None:
    return application.rollouts.select_related("requested_by").first()


def rollout_buttons_context(application, user) -> dict:
    active = application.rollouts.filter(status__in=ACTIVE).first()
    return {
        "can_deploy": roles.can_operate(user),
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


def last_results_by_region(application) -> dict[int, str]:
    """Region id → how the newest deployment that touched it ended, for the dashboard tiles.

    One query whatever the number of regions (DISTINCT ON would be PostgreSQL-only)."""
    newest = (
        # A region's bootstrap stack is not its application's: the tiles show the latter.
        Deployment.objects.filter(region__application=application).exclude(action="bootstrap")
        .values("region_id")
        .annotate(newest=Max("pk"))
        .values_list("newest", flat=True)
    )
    rows = Deployment.objects.filter(pk__in=newest).select_related("rollout")
    results = {}
    for deployment in rows:
        when = deployment.finished_at or deployment.started_at or deployment.created_at
        status = deployment.get_status_display().lower()
        rollout = deployment.rollout
        if deployment.status == Status.CANCELLED and rollout.status in (Status.FAILED,
                                                                         Status.ERROR):
            # Cancelled because an earlier step failed: the rollout's outcome is what happened.
            status = f"not run, rollout {rollout.get_status_display().lower()}"
        text = f"{status} (rollout {deployment.rollout_id}"
        results[deployment.region_id] = text + (f", {when:%H:%M} UTC)" if when else ")")
    return results
