"""Every page answers with a Content-Security-Policy that allows no inline script or style, and
no page needs one: no inline script, no style block, no style attribute, no eval in htmx."""

import re

import pytest
from django.test import Client
from django.utils import timezone

from accounts.audit import Actor
from deployer.models import Deployment, Rollout, Status
from regions import services

PAGES = ["/", "/applications/orders/", "/applications/orders/regions/us-east-1/",
         "/watch/orders/", "/watch/orders/tiles/", "/watch/orders/matrix/",
         "/applications/orders/rollouts/", "/audit/", "/profile/", "/applications/new/",
         "/applications/orders/regions/new/", "/admin/", "/admin/regions/application/",
         "/api/docs"]


@pytest.fixture
def staff(admin_user, application, aws):
    services.add_region(application, "eu-west-1", Actor(admin_user, "cli"))
    rollout = Rollout.objects.create(application=application, kind="deploy",
                                     status=Status.SUCCEEDED, finished_at=timezone.now())
    Deployment.objects.create(rollout=rollout, region=application.regions.get(code="us-east-1"),
                              step=0, action="update_main", stack_name="orders-us-east-1",
                              status=Status.SUCCEEDED).log("Deployment succeeded.")
    admin_user.is_staff = True
    admin_user.save()
    client = Client()
    client.force_login(admin_user)
    client.pages = [*PAGES, f"/rollouts/{rollout.pk}/"]
    return client


def policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part for part in (p.strip() for p in header.split(";")) if part}


def test_the_login_page_allows_scripts_and_styles_from_the_project_only(db):
    rules = policy(Client().get("/login/"))
    assert rules["script-src"] == "script-src 'self'"
    assert rules["style-src"] == "style-src 'self'"
    assert rules["default-src"] == "default-src 'self'"
    assert rules["frame-ancestors"] == "frame-ancestors 'none'"


def test_no_page_carries_inline_script_style_or_eval(staff):
    for path in staff.pages:
        response = staff.get(path)
        assert response.status_code == 200, path
        assert "unsafe-inline" not in response["Content-Security-Policy"], path
        html = response.content.decode()
        scripts = re.findall(r"<script\b([^>]*)>", html)
        inline = [attrs for attrs in scripts
                  if "src=" not in attrs and 'type="application/json"' not in attrs]
        assert not inline, (path, inline)
        assert "<style" not in html, path
        assert not re.search(r"\sstyle=", html), path
        triggers = re.findall(r'hx-trigger="([^"]*)"', html)
        assert not [t for t in triggers if "[" in t], (path, triggers)


def test_the_json_api_answers_with_the_policy_too(staff):
    assert "Content-Security-Policy" in staff.get("/api/v1/applications")
