"""Roll back: a new rollout that applies an earlier succeeded deploy's templates again, through
the same review; the assemblies of the last ROLLBACK_KEEP deploys are kept for it."""

import pytest
from django.urls import reverse
from django.utils import timezone

from deployer import retained, rollouts
from deployer.models import Deployment, Rollout, Status
from lib import aws
from tests.api.conftest import Api

from .test_deploy_one_region import wait_for_planned
from .test_orchestration import WORKER_ENV, in_inventory, steps, wait_for


def release(region: str) -> str:
    return aws.client("ssm", region).get_parameter(
        Name=f"/orders/{region}/release")["Parameter"]["Value"]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_rolling_back_plans_the_earlier_templates_for_review_and_applies_them(
        aws, application, operator, celery_worker_factory):
    in_inventory(application, "eu-west-1")
    celery_worker_factory("deploys", **WORKER_ENV)
    first = wait_for(rollouts.start_deploy(application, operator, label="v1"))
    assert wait_for(rollouts.start_deploy(application, operator, label="v2")).status == (
        Status.SUCCEEDED)
    assert release("eu-west-1") == "v2"

    response = Api(operator).post(f"/api/v1/rollouts/{first.pk}/rollback")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["rollback_of"], body["release_label"]) == ("plan", first.pk, "v1")
    plan = wait_for_planned(Rollout.objects.get(pk=body["id"]))
    changes = {d.region.code: [(c["logical_id"], c["action"]) for c in d.changes]
               for d in steps(plan)}
    assert changes == {"us-east-1": [("Release", "Modify")], "eu-west-1": [("Release", "Modify")]}
    assert release("eu-west-1") == "v2"  # nothing runs before the review is applied
    done = wait_for(rollouts.apply(plan, operator))
    assert done.status == Status.SUCCEEDED, done.explanation
    assert (release("us-east-1"), release("eu-west-1")) == ("v1", "v1")


@pytest.fixture
def succeeded(application):
    application.regions.update(state="active")

    def make(label="", **fields):
        rollout = Rollout.objects.create(
            application=application, kind="deploy", status=Status.SUCCEEDED,
            release_label=label, finished_at=timezone.now(), **fields)
        Deployment.objects.create(rollout=rollout, region=application.regions.get(), step=0,
                                  action="update_main", stack_name="orders-us-east-1",
                                  status=Status.SUCCEEDED, template={"Resources": {}},
                                  synth_key="ab" * 32)
        return rollout
    return make


@pytest.mark.django_db
def test_a_roll_back_waits_until_regions_are_no_longer_being_added(application, operator,
                                                                    succeeded):
    good = succeeded()
    application.regions.update(state="planned")

    with pytest.raises(rollouts.Refused, match=r"Regions are being added or removed \(us-east"):
        rollouts.start_rollback(good, operator)


@pytest.mark.django_db
def test_a_failed_rollout_cannot_be_rolled_back_to_and_says_why(application, operator,
                                                                   succeeded):
    failed = Rollout.objects.create(
        application=application, kind="deploy", status=Status.FAILED)

    with pytest.raises(rollouts.Refused, match="only a deploy that succeeded"):
        rollouts.start_rollback(failed, operator)


@pytest.mark.django_db
def test_only_the_last_deploys_can_be_rolled_back_to(application, operator, succeeded,
                                                     settings):
    settings.ROLLBACK_KEEP = 2
    old, *_ = [succeeded(label=f"v{n}") for n in range(3)]

    with pytest.raises(rollouts.Refused, match="older than the last 2 succeeded deploys"):
        rollouts.start_rollback(old, operator)


@pytest.mark.django_db
def test_the_assemblies_of_the_last_deploys_are_kept_and_older_ones_pruned(
        application, succeeded, settings, tmp_path):
    settings.SYNTH_CACHE_DIR = tmp_path / "synth"
    settings.ROLLBACK_KEEP = 2
    entry = tmp_path / "synth" / ("ab" * 32) / "assembly"
    entry.mkdir(parents=True)
    (entry / "manifest.json").write_text("{}")
    kept = []
    for n in range(3):
        rollout = succeeded(label=f"v{n}")
        assert retained.keep(rollout) == ["ab" * 32]
        kept.append(rollout)

    folders = sorted(p.name for p in (tmp_path / "synth" / "kept").iterdir())
    assert folders == sorted(str(r.pk) for r in kept[1:])
    assert (tmp_path / "synth" / "kept" / str(kept[2].pk) / ("ab" * 32) / "assembly" /
            "manifest.json").read_text() == "{}"


@pytest.mark.django_db
def test_a_failed_rollout_offers_a_roll_back_to_the_last_good_deploy(client, operator,
                                                                     application, succeeded):
    good = succeeded(label="v7")
    failed = Rollout.objects.create(application=application, kind="deploy",
                                    status=Status.FAILED, explanation="Stopped.")
    client.force_login(operator)

    page = client.get(failed.get_absolute_url()).content.decode()
    good_page = client.get(good.get_absolute_url()).content.decode()

    assert f"Roll back to rollout {good.pk} (v7)…" in page
    assert reverse("deployer:rollout_rollback", args=[good.pk]) in page
    assert "Roll back to this rollout…" in good_page


@pytest.mark.django_db
def test_roll_back_from_the_web_plans_a_new_rollout_for_review(client, operator, succeeded):
    good = succeeded(label="v7")
    client.force_login(operator)

    response = client.post(reverse("deployer:rollout_rollback", args=[good.pk]))

    rollout = Rollout.objects.get(rollback_of=good)
    assert response["Location"] == rollout.get_absolute_url()
    assert (rollout.kind, rollout.status, rollout.release_label) == ("plan", "queued", "v7")


@pytest.mark.django_db
def test_the_rollout_command_rolls_back_and_says_why_it_cannot_approve(succeeded, capsys):
    from django.core.management import CommandError, call_command

    good = succeeded(label="v7")

    call_command("rollout", "rollback", str(good.pk))

    rollout = Rollout.objects.get(rollback_of=good)
    assert f"Rollout {rollout.pk}: queued." in capsys.readouterr().out
    assert rollout.requested_via == "cli"
    with pytest.raises(CommandError, match=f"Rollout {good.pk} is succeeded; there is nothing "
                                           "to approve."):
        call_command("rollout", "approve", str(good.pk))
