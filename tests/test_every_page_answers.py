"""Every page of the product, for an admin, with real data and with unknown ids: never a 500."""

import re
from datetime import timedelta

import pytest
from django.urls import get_resolver, reverse
from django.utils import timezone

from accounts.audit import Actor
from accounts.models import ApiToken
from alerts import services as alert_services
from deployer.models import Deployment, Rollout, Status
from regions import services
from regions.models import Region, RegionState
from watch.models import HealthSample

APPS = ("accounts", "regions", "watch", "sandbox", "deployer", "alerts", "front")


def _routes():
    """(namespace:name, argument names) of every named GET route we serve."""
    found = []

    def walk(patterns, ns):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                walk(p.url_patterns, p.namespace or ns)
            elif p.name and ns in APPS:
                params = re.findall(r"<(?:\w+:)?(\w+)>", str(p.pattern))
                found.append((f"{ns}:{p.name}", tuple(params)))

    walk(get_resolver().url_patterns, "")
    return sorted(set((name, tuple(args)) for name, args in found))


@pytest.fixture
def deployed(application, admin_user):
    actor = Actor(admin_user, "cli")
    services.add_region(application, "eu-west-1", actor)
    Region.objects.filter(application=application).update(state=RegionState.ACTIVE,
                                                          health_check_id="hc-1")
    region = application.regions.get(code="us-east-1")
    HealthSample.objects.create(region=region, at=timezone.now().replace(second=0, microsecond=0),
                                status=1.0, percentage_healthy=100.0)
    rollout = Rollout.objects.create(application=application, kind="deploy",
                                     status=Status.SUCCEEDED, finished_at=timezone.now())
    deployment = Deployment.objects.create(rollout=rollout, region=region, step=0,
                                           action="update_main", stack_name="orders-us-east-1",
                                           status=Status.SUCCEEDED)
    deployment.log("Deployment succeeded.")
    token, _ = ApiToken.issue(admin_user, "t")
    channel = alert_services.create_channel({"name": "ops", "url": "json://127.0.0.1:9/x"},
                                            actor)
    test = alert_services.test_channel(channel, actor, queue=False)
    window = alert_services.create_window(
        application, {"ends_at": timezone.now() + timedelta(hours=1), "reason": "upgrade"}, actor)
    return {"slug": "orders", "code": "us-east-1", "pk": rollout.pk, "action": "outage",
            "deployment": deployment.pk, "token": token.pk, "channel": channel.pk,
            "delivery": test.pk, "window": window.pk}


def _args(name, params, values):
    if name == "deployer:deployment_events":
        return [values["deployment"]]
    if name == "accounts:token_revoke":
        return [values["token"]]
    if name.startswith("alerts:channel_") and params:
        return [values["channel"]]
    if name == "alerts:delivery_status":
        return [values["delivery"]]
    if name == "alerts:window_end":
        return [values["window"]]
    return [values[p] for p in params]


# Actions, not pages: they answer a GET with 405 Method Not Allowed.
POST_ONLY = {
    "accounts:logout", "accounts:token_create", "accounts:token_revoke", "regions:application_delete",
    "regions:application_validate", "regions:region_validate",
    "sandbox:region_fault", "deployer:application_plan", "deployer:application_deploy",
    "deployer:rollout_apply", "deployer:rollout_confirm", "deployer:rollout_cancel",
    "alerts:channel_delete", "alerts:channel_test", "alerts:window_create", "alerts:window_end",
    "deployer:region_bootstrap",
    "deployer:region_deploy", "deployer:rollout_approve", "deployer:rollout_rollback",
}


def test_every_action_named_here_exists():
    assert POST_ONLY <= {name for name, _ in _routes()}


@pytest.mark.parametrize(("name", "params"), _routes())
def test_every_page_answers_an_admin_without_a_server_error(client, admin_user, deployed, name,
                                                           params, aws):
    client.force_login(admin_user)
    response = client.get(reverse(name, args=_args(name, params, deployed)))
    assert response.status_code == (405 if name in POST_ONLY else 200), name


@pytest.mark.parametrize(("name", "params"), [r for r in _routes() if r[1]])
def test_unknown_ids_answer_404_not_500(client, admin_user, deployed, name, params, aws):
    client.force_login(admin_user)
    unknown = {"slug": "nope", "code": "eu-north-1", "pk": 999999, "action": "outage",
               "deployment": 999999, "token": 999999, "channel": 999999, "delivery": 999999,
               "window": 999999}
    response = client.get(reverse(name, args=_args(name, params, unknown)))
    assert response.status_code in (404, 405), (name, response.status_code)


@pytest.mark.parametrize(
    "path",
    ["/admin/", "/admin/regions/application/", "/admin/regions/region/",
     "/admin/accounts/auditentry/", "/admin/accounts/apitoken/", "/admin/deployer/rollout/",
     "/admin/deployer/deployment/", "/admin/deployer/deploymentevent/", "/admin/auth/user/",
     "/admin/watch/pollstate/", "/admin/watch/healthchange/", "/admin/sandbox/sandboxfault/",
     "/api/docs", "/api/openapi.json"],
)
def test_the_admin_and_api_docs_answer(client, admin_user, deployed, path):
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    assert client.get(path).status_code == 200
