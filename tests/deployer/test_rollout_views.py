"""The rollout pages, their live fragments and the buttons."""

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.audit import Actor
from deployer import summary
from deployer.models import Deployment, Rollout, Status
from regions.services import add_region

pytestmark = pytest.mark.django_db


@pytest.fixture
def rollout(application):
    add_region(application, "eu-west-1", Actor(None, "cli"))
    rollout = Rollout.objects.create(application=application, kind="deploy",
                                     status=Status.RUNNING, started_at=timezone.now(),
                                     applied_at=timezone.now())
    main = Deployment.objects.create(
        rollout=rollout, region=application.regions.get(code="us-east-1"), step=0,
        action="update_main", stack_name="orders-us-east-1", status=Status.SUCCEEDED,
        started_at=timezone.now(), finished_at=timezone.now(), resources_total=2,
        resources_done=2,
        changes=[
            {"logical_id": "Table", "type": "AWS::DynamoDB::GlobalTable", "action": "Modify",
             "replacement": True, "stateful_flag": True},
            {"logical_id": "Release", "type": "AWS::SSM::Parameter", "action": "Add",
             "replacement": False, "stateful_flag": False},
        ],
    )
    replica = Deployment.objects.create(
        rollout=rollout, region=application.regions.get(code="eu-west-1"), step=1,
        action="deploy_region", stack_name="orders-eu-west-1", status=Status.RUNNING,
        started_at=timezone.now(), resources_total=4, resources_done=1,
    )
    replica.depends_on.add(main)
    for n in range(3):
        replica.log(f"line {n + 1}", source="cloudformation", resource="Health",
                    status="CREATE_IN_PROGRESS")
    main.log("main done")
    return rollout


def url(name, *args):
    return reverse(f"deployer:{name}", args=args)


def test_the_rollout_page_shows_every_region_with_its_changes_and_log(client, viewer, rollout):
    client.force_login(viewer)

    page = client.get(url("rollout_detail", rollout.pk)).content.decode()

    assert "orders-us-east-1" in page and "orders-eu-west-1" in page
    assert 'class="change-modify stateful"' in page
    assert ">stateful</strong>" in page
    assert "line 3" in page and "main done" in page
    assert 'value="25"' in page  # 1 of 4 resources in eu-west-1
    assert f'hx-get="/rollouts/{rollout.pk}/status"' in page


def test_viewers_see_no_buttons(client, viewer, rollout):
    client.force_login(viewer)

    page = client.get(url("rollout_detail", rollout.pk)).content.decode()

    assert "Cancel</button>" not in page


def test_operators_see_the_cancel_button_on_a_running_rollout(client, operator, rollout):
    client.force_login(operator)

    page = client.get(url("rollout_detail", rollout.pk)).content.decode()

    assert "Cancel</button>" in page


@pytest.mark.parametrize("name", ["rollout_cancel", "rollout_confirm", "rollout_apply"])
def test_it_returns_403_when_a_viewer_posts_to_a_rollout(client, viewer, rollout, name):
    client.force_login(viewer)

    response = client.post(url(name, rollout.pk))

    assert response.status_code == 403
    rollout.refresh_from_db()
    assert rollout.cancel_requested_at is None


@pytest.mark.parametrize("name", ["application_plan", "application_deploy"])
def test_it_returns_403_when_a_viewer_asks_for_a_plan_or_deploy(client, viewer, application,
                                                                name):
    client.force_login(viewer)

    response = client.post(url(name, application.slug))

    assert response.status_code == 403
    assert not Rollout.objects.exists()


def test_deploy_in_the_browser_plans_first_and_shows_the_plan_to_review(client, operator,
                                                                        application):
    client.force_login(operator)

    response = client.post(url("application_deploy", application.slug))

    rollout = Rollout.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("rollout_detail", rollout.pk)
    # Nothing runs before the operator has seen the change sets: the web deploy is a plan.
    assert (rollout.kind, rollout.status, rollout.requested_by) == ("plan", "queued", operator)


def test_deploy_shows_the_plan_waiting_for_review_instead_of_replacing_it(client, operator,
                                                                         application):
    waiting = Rollout.objects.create(application=application, kind="plan",
                                     status=Status.PLANNED, planned_at=timezone.now())
    client.force_login(operator)

    response = client.post(url("application_deploy", application.slug), follow=True)

    assert response.redirect_chain[-1][0] == url("rollout_detail", waiting.pk)
    assert "a plan waiting for review" in response.content.decode()
    assert Rollout.objects.count() == 1
    waiting.refresh_from_db()
    assert waiting.status == Status.PLANNED


def test_a_plan_older_than_the_limit_is_replanned_and_cannot_be_applied(client, operator,
                                                                       application, settings):
    settings.PLAN_MAX_AGE = 600
    old = Rollout.objects.create(application=application, kind="plan", status=Status.PLANNED,
                                 planned_at=timezone.now() - timezone.timedelta(minutes=11))
    client.force_login(operator)

    page = client.post(url("rollout_apply", old.pk), follow=True).content.decode()
    assert "made 11 minutes ago, longer than 10 minutes" in page and "Plan again" in page
    old.refresh_from_db()
    assert old.status == Status.PLANNED and old.applied_at is None

    client.post(url("application_deploy", application.slug))
    assert Rollout.objects.exclude(pk=old.pk).get().kind == "plan"


def test_a_deploy_while_one_is_active_redirects_to_the_active_one_with_a_message(
        client, operator, rollout):
    client.force_login(operator)

    response = client.post(url("application_plan", rollout.application.slug), follow=True)

    assert response.redirect_chain[-1][0] == url("rollout_detail", rollout.pk)
    assert f"already running (rollout {rollout.pk})" in response.content.decode()
    assert Rollout.objects.count() == 1


def test_the_log_fragment_returns_only_lines_after_the_sequence_and_keeps_polling(
        client, viewer, rollout):
    client.force_login(viewer)
    replica = rollout.deployments.get(step=1)

    body = client.get(url("deployment_events", replica.pk) + "?after=1",
                      HTTP_HX_REQUEST="true").content.decode()

    assert "line 1" not in body
    assert "line 2" in body and "line 3" in body
    assert f'{url("deployment_events", replica.pk)}?after=3"' in body
    assert 'hx-trigger="every 1s"' in body


def test_the_log_fragment_stops_polling_when_the_deployment_has_finished(
        client, viewer, rollout):
    client.force_login(viewer)
    replica = rollout.deployments.get(step=1)
    Deployment.objects.filter(pk=replica.pk).update(status=Status.SUCCEEDED)

    body = client.get(url("deployment_events", replica.pk) + "?after=3").content.decode()

    assert "line" not in body
    assert "?after=3" in body
    assert "hx-trigger" not in body


def test_the_status_header_stops_refreshing_when_the_rollout_has_finished(
        client, viewer, rollout):
    client.force_login(viewer)
    running = client.get(url("rollout_status", rollout.pk)).content.decode()
    rollout.end(Status.SUCCEEDED)

    finished = client.get(url("rollout_status", rollout.pk)).content.decode()

    assert 'hx-trigger="every 2s"' in running
    assert "hx-trigger" not in finished
    assert 'data-status="succeeded"' in finished


def test_a_rollout_waiting_for_confirmation_offers_confirm_to_operators(
        client, operator, rollout):
    Rollout.objects.filter(pk=rollout.pk).update(status=Status.AWAITING_CONFIRMATION)
    client.force_login(operator)

    page = client.get(url("rollout_detail", rollout.pk)).content.decode()

    assert "Confirm stateful changes and apply</button>" in page


def test_cancel_stops_the_steps_that_have_not_started(client, operator, application):
    plan = Rollout.objects.create(application=application, status=Status.PLANNED)
    step = Deployment.objects.create(rollout=plan, region=application.regions.get(), step=0,
                                     action="update_main", stack_name="s",
                                     status=Status.PLANNED)
    client.force_login(operator)

    response = client.post(url("rollout_cancel", plan.pk))

    assert response.status_code == 302
    plan.refresh_from_db()
    step.refresh_from_db()
    assert plan.status == step.status == Status.CANCELLED


def test_the_rollout_list_shows_the_applications_rollouts(client, viewer, rollout):
    client.force_login(viewer)

    page = client.get(url("rollout_list", rollout.application.slug)).content.decode()

    assert f'href="{url("rollout_detail", rollout.pk)}"' in page
    assert "Deploy…</button>" not in page


def test_the_overview_partial_shows_the_last_rollout_and_buttons_for_operators(
        rf, operator, viewer, rollout):
    for user, buttons in ((operator, True), (viewer, False)):
        context = {"application": rollout.application,
                   **summary.overview_context(rollout.application, user)}
        html = render_to_string(context["rollouts_partial"], context, request=rf.get("/"))
        assert f"rollout {rollout.pk}</a>" in html
        assert ("Deploy…</button>" in html) is buttons


def test_the_cards_refresh_while_planning_and_stop_once_applying(client, viewer, application):
    rollout = Rollout.objects.create(application=application, status=Status.RUNNING)
    client.force_login(viewer)
    cards = 'hx-select="#deployments"'

    planning = client.get(url("rollout_detail", rollout.pk)).content.decode()
    Rollout.objects.filter(pk=rollout.pk).update(applied_at=timezone.now())
    # A one-click deploy is applied from the start: its cards refresh until its steps exist.
    applied_without_steps = client.get(url("rollout_detail", rollout.pk)).content.decode()
    Deployment.objects.create(rollout=rollout, region=application.regions.get(), step=0,
                              action="update_main", stack_name="s", status=Status.QUEUED)
    applying = client.get(url("rollout_detail", rollout.pk)).content.decode()

    assert cards in planning
    assert cards in applied_without_steps
    assert cards not in applying


def test_the_rollout_page_reads_every_regions_log_in_one_query(client, viewer, rollout):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(viewer)
    with CaptureQueriesContext(connection) as captured:
        client.get(url("rollout_detail", rollout.pk))
    event_queries = [q for q in captured.captured_queries
                     if "deployer_deploymentevent" in q["sql"]]
    assert len(event_queries) == 1
