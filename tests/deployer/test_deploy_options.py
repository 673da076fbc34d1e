"""Deploy one region and a release label: from the region page, the Deploy form, the API and
the command line, with the reason in words when a region cannot be deployed alone."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.audit import Actor
from accounts.models import AuditEntry
from deployer import planning, rollouts
from deployer.models import Rollout
from regions.models import RegionState
from regions.services import add_region
from tests.api.conftest import Api

pytestmark = pytest.mark.django_db


@pytest.fixture
def deployed(application):
    add_region(application, "eu-west-1", Actor(None, "cli"))
    application.regions.update(state=RegionState.ACTIVE)
    return application


def region_deploy_url(code="eu-west-1"):
    return reverse("deployer:region_deploy", args=["orders", code])


def test_deploy_this_region_plans_that_region_alone_for_review(client, operator, deployed):
    client.force_login(operator)

    response = client.post(region_deploy_url(), {"label": "v42"})

    rollout = Rollout.objects.get()
    assert response["Location"] == rollout.get_absolute_url()
    assert (rollout.kind, rollout.only_region, rollout.release_label) == (
        "plan", "eu-west-1", "v42")
    assert (rollout.requested_by, rollout.requested_via) == (operator, "web")


def test_deploy_this_region_again_shows_the_plan_waiting_for_review(client, operator, deployed):
    client.force_login(operator)
    first = client.post(region_deploy_url())
    Rollout.objects.update(status="planned")

    again = client.post(region_deploy_url(), follow=True)

    assert again.redirect_chain[0][0] == first["Location"]
    assert "a plan of eu-west-1 waiting for review" in again.content.decode()
    assert Rollout.objects.count() == 1


def test_a_region_being_removed_cannot_be_deployed_alone_and_the_page_says_why(
        client, operator, deployed):
    deployed.regions.filter(code="eu-west-1").update(state=RegionState.REMOVING)
    client.force_login(operator)

    response = client.post(region_deploy_url(), follow=True)

    assert response.redirect_chain[0][0] == reverse("front:region_detail",
                                                    args=["orders", "eu-west-1"])
    assert "eu-west-1 is being removed: deploy the whole application" in (
        response.content.decode())
    assert not Rollout.objects.exists()


def test_the_region_page_offers_deploy_this_region_to_operators_only(client, operator, viewer,
                                                                      deployed):
    page = reverse("front:region_detail", args=["orders", "eu-west-1"])
    client.force_login(operator)
    assert "Deploy this region…" in client.get(page).content.decode()
    client.force_login(viewer)
    assert "Deploy this region…" not in client.get(page).content.decode()


def test_the_deploy_form_takes_a_label_and_the_approval_choice(client, operator, deployed):
    client.force_login(operator)

    client.post(reverse("deployer:application_deploy", args=["orders"]),
                {"label": "  spring release  ", "approval": ["off", "on"]})

    rollout = Rollout.objects.get()
    assert (rollout.only_region, rollout.release_label, rollout.require_approval) == (
        "", "spring release", True)


def test_without_the_choice_a_rollout_takes_the_applications_approval_default(operator,
                                                                              deployed):
    deployed.require_approval = True
    deployed.save()

    rollout = rollouts.start_deploy(deployed, operator)

    assert rollout.require_approval is True


@pytest.mark.parametrize(("states", "expected"), [
    ({"us-east-1": "active", "eu-west-1": "active"}, ""),
    ({"us-east-1": "active"}, "eu-west-1 is not a region of this application (its regions: "
                              "us-east-1)."),
    ({"us-east-1": "active", "eu-west-1": "removing"}, "eu-west-1 is being removed"),
    ({"us-east-1": "active", "eu-west-1": "planned"}, "eu-west-1 has not been deployed yet"),
    ({"us-east-1": "active", "eu-west-1": "removed"}, "eu-west-1 has been removed"),
    ({"us-east-1": "active", "eu-west-1": "active", "ap-south-1": "planned"},
     "Regions are being added or removed (ap-south-1)"),
])
def test_only_region_refusal_says_why_in_words(states, expected):
    refusal = planning.only_region_refusal("eu-west-1", "us-east-1", states)

    assert refusal.startswith(expected) if expected else refusal == ""


def test_the_api_deploys_one_region_with_a_label(operator, deployed):
    response = Api(operator).post("/api/v1/applications/orders/deploy",
                                  {"region": "eu-west-1", "label": "v42"})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["only_region"], body["release_label"]) == (
        "deploy", "eu-west-1", "v42")
    assert (body["requested_by"], body["requested_via"]) == ("otto", "api")
    entry = AuditEntry.objects.get(action="rollout.deploy")
    assert (entry.after["region"], entry.after["label"]) == ("eu-west-1", "v42")


def test_the_api_answers_400_with_the_reason_for_an_unknown_region(operator, deployed):
    response = Api(operator).post("/api/v1/applications/orders/deploy", {"region": "ap-south-1"})

    assert response.status_code == 400
    assert response.json()["errors"]["__all__"] == [
        "ap-south-1 is not a region of this application (its regions: eu-west-1, us-east-1)."]
    assert not Rollout.objects.exists()


def test_the_api_refuses_a_label_on_two_lines(operator, deployed):
    response = Api(operator).post("/api/v1/applications/orders/plans", {"label": "a\nb"})

    assert response.status_code == 400
    assert "one line of printable text" in response.json()["errors"]["__all__"][0]


def test_the_api_deploys_everything_without_a_body(operator, deployed):
    response = Api(operator).post("/api/v1/applications/orders/deploy")

    assert response.status_code == 201, response.json()
    assert (response.json()["only_region"], response.json()["release_label"]) == ("", "")


def test_the_deploy_command_says_why_a_region_cannot_be_deployed(deployed):
    deployed.regions.filter(code="eu-west-1").update(state=RegionState.REMOVING)

    with pytest.raises(CommandError, match="eu-west-1 is being removed"):
        call_command("deploy", "orders", "--region", "eu-west-1")


def test_the_deploy_command_takes_a_label_and_the_approval_gate(deployed, capsys):
    call_command("deploy", "orders", "--label", "v43", "--approval")

    rollout = Rollout.objects.get()
    assert (rollout.release_label, rollout.require_approval, rollout.requested_via) == (
        "v43", True, "cli")
    assert f"Rollout {rollout.pk} (deploy) of orders, release v43 queued" in (
        capsys.readouterr().out)


def test_rollout_lists_and_pages_show_the_label_who_and_when(client, viewer, operator, deployed):
    rollout = rollouts.start_plan(deployed, operator, Actor(operator, "api"), label="v42")
    client.force_login(viewer)

    listing = client.get(reverse("deployer:rollout_list", args=["orders"])).content.decode()
    page = client.get(rollout.get_absolute_url()).content.decode()

    assert '<span class="mono">v42</span>' in listing
    assert "otto <span class=\"muted\">(api)</span>" in listing
    assert "release <strong class=\"mono\">v42</strong>" in page
    assert "requested by otto (api)" in page
    assert f'datetime="{rollout.created_at.isoformat()}' in page
