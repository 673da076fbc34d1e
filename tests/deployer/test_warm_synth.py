"""The warm synth of the built-in apps: one long-lived process per worker, a fresh App each time."""

import psutil
import pytest

from deployer.synth import synth_application, synth_plan, warm
from regions.models import Source

SANDBOX = "deployer.sandboxapp"


@pytest.fixture(autouse=True)
def sandbox(three_regions, synth_cache, settings):
    settings.SYNTH_WARM = True
    warm.stop_all()
    three_regions.source = Source.SANDBOX
    three_regions.save()
    yield three_regions
    warm.stop_all()


def templates(result) -> dict:
    return {region: stack.template for region, stack in result.stacks.items()}


@pytest.mark.slow
def test_a_second_synth_starts_no_app_and_writes_what_a_cold_start_writes(sandbox, settings):
    first = synth_plan(sandbox, release="r1", replica_steps=[[], ["eu-west-1"]])
    again = synth_plan(sandbox, release="r2", replica_steps=[[], ["eu-west-1"]])
    assert (first.app_starts, again.app_starts, again.cache_hits) == (1, 0, 0)

    settings.SYNTH_WARM = False
    cold = synth_plan(sandbox, release="r2", replica_steps=[[], ["eu-west-1"]], use_cache=False)
    assert cold.app_starts == 1
    assert templates(cold.final) == templates(again.final)
    assert [templates(s) for s in cold.steps.values()] == [templates(s) for s in again.steps.values()]
    for stack in again.final.stacks.values():
        for asset in stack.needs.files:
            assert (stack.template_path.parent / asset.source).exists()


@pytest.mark.slow
def test_a_warm_process_that_died_is_replaced_without_the_synth_failing(sandbox):
    synth_application(sandbox, release="r1")
    dead = warm._warm[SANDBOX].proc
    dead.kill()
    dead.wait()

    result = synth_application(sandbox, release="r2")

    assert result.app_starts == 1
    assert result.stacks["us-east-1"].template["Resources"]["Release"]["Properties"]["Value"] == "r2"


@pytest.mark.slow
def test_the_warm_process_is_recycled_after_its_number_of_synths(sandbox, settings):
    settings.SYNTH_WARM_MAX_SYNTHS = 1
    synth_application(sandbox, release="r1")
    assert SANDBOX not in warm._warm

    result = synth_application(sandbox, release="r2")
    process = warm._warm.get(SANDBOX)
    assert result.app_starts == 1 and process is None


@pytest.mark.slow
def test_stopping_the_warm_process_stops_its_node_too(sandbox):
    synth_application(sandbox, release="r1")
    proc = psutil.Process(warm._warm[SANDBOX].proc.pid)
    family = [proc, *proc.children(recursive=True)]
    assert any("node" in " ".join(p.cmdline()) for p in family), [p.cmdline() for p in family]

    warm.stop_all()

    _, alive = psutil.wait_procs(family, timeout=5)
    assert [p for p in alive if p.status() != psutil.STATUS_ZOMBIE] == []
