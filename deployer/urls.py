from django.urls import path

from . import views

app_name = "deployer"

urlpatterns = [
    path("rollouts/<int:pk>/", views.rollout_detail, name="rollout_detail"),
    path("rollouts/<int:pk>/status", views.rollout_status, name="rollout_status"),
    path("rollouts/<int:pk>/apply", views.rollout_apply, name="rollout_apply"),
    path("rollouts/<int:pk>/confirm", views.rollout_confirm, name="rollout_confirm"),
    path("rollouts/<int:pk>/cancel", views.rollout_cancel, name="rollout_cancel"),
    path("rollouts/<int:pk>/approve", views.rollout_approve, name="rollout_approve"),
    path("rollouts/<int:pk>/rollback", views.rollout_rollback, name="rollout_rollback"),
    path("deployments/<int:pk>/events", views.deployment_events, name="deployment_events"),
    path("applications/<slug:slug>/plan", views.application_plan, name="application_plan"),
    path("applications/<slug:slug>/deploy", views.application_deploy, name="application_deploy"),
    path("applications/<slug:slug>/rollouts/", views.rollout_list, name="rollout_list"),
    path("applications/<slug:slug>/regions/<str:code>/bootstrap", views.region_bootstrap,
         name="region_bootstrap"),
    path("applications/<slug:slug>/regions/<str:code>/deploy", views.region_deploy,
         name="region_deploy"),
]
