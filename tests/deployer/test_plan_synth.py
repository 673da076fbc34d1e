"""A plan's synth: every replica step from one app start when the app takes `replica_steps`,
one run per step (as few as the cache allows) when it does not."""

import pytest
from django.urls import reverse

from deployer import planning, steps
from deployer.models import Action, Rollout, Status
from deployer.synth import cached_stack, warm
from deployer.synth.templates import SYNTH_COST
from regions.models import Source
from tests.deployer.conftest import runs, use_app


@pytest.fixture(autouse=True)
def cache_dir(synth_cache, settings):
    settings.DEPLOYER_TEMPLATES = ""  # the real synth, not the tests' template source
    warm.stop_all()  # a warm process left by another test would make the first start free
    yield synth_cache
    warm.stop_all()


def planned(application) -> list:
    """The steps of the application's next rollout with their templates, as plan_rollout makes them."""
    rollout = Rollout.objects.create(application=application, status=Status.PLANNED)
    states = dict(application.regions.values_list("code", "state"))
    specs = planning.plan_steps(application.main_region, states)
    regions = {r.code: r for r in application.regions.all()}
    deployments = steps.create_deployments(rollout, specs, regions)
    steps.synthesize(rollout, deployments)
    rollout.deployments.update(status=Status.CANCELLED)  # so the next plan may have steps
    for d in deployments:
        d.refresh_from_db()
    return deployments


def synth_cost(deployments) -> str:
    [line] = deployments[0].events.filter(status=SYNTH_COST).values_list("message", flat=True)
    return line


@pytest.mark.slow
def test_a_first_plan_of_three_regions_starts_the_sandbox_app_once(three_regions, client,
                                                                   viewer):
    three_regions.source = Source.SANDBOX
    three_regions.save()

    steps = planned(three_regions)

    assert [d.action for d in steps].count(Action.UPDATE_MAIN) == 3
    assert synth_cost(steps).startswith("Synth: 1 app start, ")
    for d in steps:
        # Each step's stack is the real one CloudFormation sees, its assets in the cache.
        assert d.stack_name == f"orders-{d.region.code}"
        assembly, stack = cached_stack(d.synth_key, d.region.code)
        assert [f.source for f in stack.needs.files if f.packaging == "zip"]
        for asset in stack.needs.files:
            assert (stack.template_path.parent / asset.source).exists()
        if d.action == Action.UPDATE_MAIN:
            replicas = d.template["Resources"]["Replicas"]["Properties"]["Value"]
            assert replicas == (",".join(sorted(d.replicas)) or "none")

    client.force_login(viewer)
    page = client.get(reverse("deployer:rollout_detail", args=[steps[0].rollout_id]))
    assert 'id="synth-cost">Synth: 1 app start, ' in page.content.decode()

    again = planned(three_regions)
    assert synth_cost(again).startswith("Synth: 0 app starts, ")
    assert synth_cost(again).endswith("4 of 4 from the cache.")
    assert [d.template for d in again] == [d.template for d in steps]


def test_an_app_that_ignores_replica_steps_runs_once_more_for_each_step(three_regions, apps):
    use_app(three_regions, apps, "all_regions.py")

    steps = planned(three_regions)

    assert sorted(runs(apps)) == sorted([
        "all:us-east-1,ap-southeast-2,eu-west-1", "all:us-east-1", "all:us-east-1",
        "all:us-east-1"])
    assert synth_cost(steps).startswith("Synth: 4 app starts, ")
    assert {d.region.code for d in steps} == {"us-east-1", "eu-west-1", "ap-southeast-2"}

    planned(three_regions)
    assert len(runs(apps)) == 4  # every step from the cache


def test_an_app_that_reads_only_aws_region_still_gets_a_stack_per_step(three_regions, apps):
    use_app(three_regions, apps, "one_region.py")

    steps = planned(three_regions)

    assert sorted(runs(apps)) == sorted(
        ["one:us-east-1", "one:ap-southeast-2", "one:eu-west-1"] + ["one:us-east-1"] * 3)
    assert all(d.template for d in steps)
