"""Rollouts, deployments and their logs are shown in the Django admin, never changed there:
they change only through the deployer, which audits every step."""

import pytest
from django.utils import timezone

from deployer.models import Deployment, DeploymentEvent, Rollout, Status


@pytest.fixture
def rollout(application):
    rollout = Rollout.objects.create(application=application, kind="deploy",
                                     status=Status.FAILED, finished_at=timezone.now())
    deployment = Deployment.objects.create(
        rollout=rollout, region=application.regions.get(), step=0, action="update_main",
        stack_name="orders-us-east-1", status=Status.FAILED)
    deployment.log("Stack update failed.")
    return rollout


def test_a_rollout_status_cannot_be_edited_in_the_admin(staff, rollout):
    page = staff.get(f"/admin/deployer/rollout/{rollout.pk}/change/")
    assert page.status_code == 200
    assert 'name="status"' not in page.content.decode()
    response = staff.post(f"/admin/deployer/rollout/{rollout.pk}/change/",
                          {"status": Status.SUCCEEDED, "kind": "deploy"})
    assert response.status_code == 403
    rollout.refresh_from_db()
    assert rollout.status == Status.FAILED


def test_a_deployment_cannot_be_edited_or_deleted_in_the_admin(staff, rollout):
    deployment = rollout.deployments.get()
    response = staff.post(f"/admin/deployer/deployment/{deployment.pk}/change/",
                          {"status": Status.SUCCEEDED})
    assert response.status_code == 403
    assert staff.get(f"/admin/deployer/deployment/{deployment.pk}/delete/").status_code == 403
    deployment.refresh_from_db()
    assert deployment.status == Status.FAILED


def test_log_lines_cannot_be_deleted_in_the_admin(staff, rollout):
    event = DeploymentEvent.objects.get()
    assert staff.get(f"/admin/deployer/deploymentevent/{event.pk}/delete/").status_code == 403
    staff.post("/admin/deployer/deploymentevent/",
               {"action": "delete_selected", "_selected_action": [str(event.pk)]})
    assert DeploymentEvent.objects.filter(pk=event.pk).exists()
