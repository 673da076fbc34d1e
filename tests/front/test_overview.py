"""The application overview composes the inventory, the watch and the rollouts."""

import pytest
from django.urls import reverse
from django.utils import timezone

from deployer.models import Deployment, Rollout, Status
from tests.watch.test_dashboard_fragments import HTMX, tile

pytestmark = pytest.mark.django_db


@pytest.fixture
def deployed_once(application):
    region = application.regions.get()
    rollout = Rollout.objects.create(application=application, kind="deploy",
                                     status=Status.FAILED, finished_at=timezone.now())
    Deployment.objects.create(rollout=rollout, region=region, step=0, action="update_main",
                              stack_name=region.stack_name, status=Status.FAILED,
                              finished_at=timezone.now())
    return rollout


def test_the_overview_tiles_show_each_regions_last_rollout(client, viewer, deployed_once):
    client.force_login(viewer)
    response = client.get(reverse("front:overview_tiles", args=["orders"]), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Last rollout: failed (rollout {deployed_once.pk}" in tile(html, "us-east-1")
    # The fragment asks for itself again, not for the watch's rollout-free tiles.
    assert f'hx-get="{reverse("front:overview_tiles", args=["orders"])}?range=24h"' in html


def test_the_overview_page_polls_the_overview_tiles(client, viewer, deployed_once):
    client.force_login(viewer)
    html = client.get(reverse("front:application_detail", args=["orders"])).content.decode()
    assert f'hx-get="{reverse("front:overview_tiles", args=["orders"])}?range=24h"' in html
    assert "Last rollout: failed" in tile(html, "us-east-1")


def test_the_watch_dashboard_alone_knows_nothing_of_rollouts(client, viewer, deployed_once):
    client.force_login(viewer)
    html = client.get(reverse("watch:region_tiles", args=["orders"]), **HTMX).content.decode()
    assert "Last rollout" not in html


def test_the_overview_tiles_need_the_viewer_role(client, nobody, deployed_once):
    client.force_login(nobody)
    assert client.get(reverse("front:overview_tiles", args=["orders"]),
                      **HTMX).status_code == 403


def test_resources_link_to_the_aws_console_outside_the_sandbox(client, viewer, application,
                                                             settings):
    settings.SANDBOX = False
    application.regions.update(health_check_id="hc-123")
    client.force_login(viewer)
    html = client.get(reverse("front:region_detail", args=["orders", "us-east-1"])).content.decode()
    assert ('href="https://us-east-1.console.aws.amazon.com/cloudformation/home?region=us-east-1'
            '#/stacks/stackinfo?stackId=orders-us-east-1"') in html
    assert "route53/healthchecks/home#/details/hc-123" in html


def test_the_sandbox_links_to_no_console(client, viewer, application, settings):
    settings.SANDBOX = True
    client.force_login(viewer)
    html = client.get(reverse("front:region_detail", args=["orders", "us-east-1"])).content.decode()
    assert "console.aws.amazon.com" not in html


def test_a_step_cancelled_by_a_failed_rollout_says_the_rollout_failed(client, viewer,
                                                                      application):
    region = application.regions.get()
    rollout = Rollout.objects.create(application=application, kind="deploy",
                                     status=Status.FAILED, finished_at=timezone.now())
    Deployment.objects.create(rollout=rollout, region=region, step=1, action="deploy_region",
                              stack_name=region.stack_name, status=Status.CANCELLED)
    client.force_login(viewer)
    html = client.get(reverse("front:overview_tiles", args=["orders"]), **HTMX).content.decode()
    assert f"Last rollout: not run, rollout failed (rollout {rollout.pk}" in tile(html, "us-east-1")
