import json
import re
import time
from pathlib import Path

import psutil
import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from deployer.node import node_bin_dir, node_version
from deployer.synth import SynthError, synth_application
from deployer.synth.inputs import app_inputs, hash_files
from regions.models import Application, RegionState
from tests.conftest import APP_DATA
from tests.deployer.conftest import THREE, runs, use_app

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def cache_dir(synth_cache):
    return synth_cache


def assert_gone(pid_file: Path) -> None:
    procs = []
    for pid in map(int, pid_file.read_text().split()):
        try:
            procs.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            pass
    # A killed orphan may take a moment to go, and only its reaper can clear its zombie.
    _, alive = psutil.wait_procs(procs, timeout=5)
    survivors = [p.pid for p in alive if p.status() != psutil.STATUS_ZOMBIE]
    assert survivors == [], "processes survived the synth"


def test_app_inputs_put_the_main_region_first_and_the_replicas_after_it(three_regions):
    inputs = app_inputs(three_regions, release="r42")
    assert inputs["region"] == "us-east-1"
    assert inputs["regions"] == "us-east-1,ap-southeast-2,eu-west-1"
    assert inputs["main_region"] == "us-east-1"
    assert inputs["replica_regions"] == "ap-southeast-2,eu-west-1"
    assert inputs["app_name"] == "orders"
    assert inputs["account"] == "123456789012"
    assert inputs["release"] == "r42"


def test_app_inputs_leave_out_regions_being_removed(three_regions):
    three_regions.regions.filter(code="eu-west-1").update(state=RegionState.REMOVING)
    inputs = app_inputs(three_regions)
    assert inputs["regions"] == "us-east-1,ap-southeast-2"
    assert inputs["replica_regions"] == "ap-southeast-2"


def test_app_inputs_take_the_replica_list_of_a_step(three_regions):
    inputs = app_inputs(three_regions, replica_regions=["eu-west-1"])
    assert inputs["regions"] == "us-east-1,ap-southeast-2,eu-west-1"
    assert inputs["replica_regions"] == "eu-west-1"


def test_app_inputs_refuse_an_unknown_region_code(application):
    with pytest.raises(SynthError) as caught:
        app_inputs(application, regions=["us-east-1", "mars-north-1"])
    assert caught.value.kind == "input"
    assert "mars-north-1" in str(caught.value)


def test_an_application_without_regions_is_an_input_error(application):
    application.regions.update(state=RegionState.REMOVED)
    with pytest.raises(SynthError) as caught:
        synth_application(application)
    assert caught.value.kind == "input"
    assert "no regions" in str(caught.value)
    assert not caught.value.retryable


def test_an_all_regions_app_runs_once_and_yields_one_stack_per_region(three_regions, apps):
    use_app(three_regions, apps, "all_regions.py")
    result = synth_application(three_regions)

    assert runs(apps) == ["all:us-east-1,ap-southeast-2,eu-west-1"]
    assert list(result.stacks) == ["us-east-1", "ap-southeast-2", "eu-west-1"]
    stack = result.stacks["eu-west-1"]
    assert stack.stack_name == "orders-eu-west-1"
    assert stack.environment == "aws://123456789012/eu-west-1"
    assert stack.outputs == ["ApiUrl", "HealthCheckId"]
    assert stack.template_path.is_file()
    assert stack.template_path.parent == result.outdir
    assert json.loads(stack.template_path.read_text()) == stack.template
    assert (result.outdir / "manifest.json").is_file()
    assert result.cached is False
    assert ("stdout", "synthesizing 3 regions") in result.lines
    assert ("stderr", "a warning on stderr") in result.lines


def test_the_app_receives_the_inputs_as_context_and_environment(three_regions, apps, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "not-for-apps")
    use_app(three_regions, apps, "all_regions.py")
    result = synth_application(three_regions, release="r7")

    metadata = result.stacks["us-east-1"].template["Metadata"]
    assert metadata["Context"] == app_inputs(three_regions, release="r7")
    env = metadata["Env"]
    assert env["AWS_REGION"] == env["CDK_DEFAULT_REGION"] == "us-east-1"
    assert env["REGIONS"] == "us-east-1,ap-southeast-2,eu-west-1"
    assert env["REPLICATION_REGIONS"] == "ap-southeast-2,eu-west-1"
    assert env["MAIN_REGION"] == "us-east-1"
    assert env["DOMAIN_NAME"] == "api.example.com"
    assert env["HOSTED_ZONE_ID"] == "Z0123456789ABCDEFGHIJ"
    assert env["TABLE_NAME"] == "orders"
    assert env["CDK_DEFAULT_ACCOUNT"] == "123456789012"
    assert Path(env["CDK_OUTDIR"]).parent.parent == Path(result.outdir).parent.parent
    assert env["SECRET_KEY"] is None
    assert metadata["Node"] == str(node_bin_dir() / "node")


def test_an_app_that_reads_only_aws_region_runs_once_per_region_and_the_stacks_are_merged(
    three_regions, apps
):
    use_app(three_regions, apps, "one_region.py")
    lines = []
    result = synth_application(three_regions, on_line=lambda stream, line: lines.append(line))

    assert sorted(runs(apps)) == ["one:ap-southeast-2", "one:eu-west-1", "one:us-east-1"]
    assert runs(apps)[0] == "one:us-east-1"
    assert sorted(result.stacks) == sorted(THREE)
    for region, stack in result.stacks.items():
        assert stack.stack_name == "MultiRegionApi"
        assert stack.environment == f"aws://123456789012/{region}"
        assert stack.template["Metadata"]["Env"]["AWS_REGION"] == region
    # The main region's run is the assembly; every other run's assembly is nested in it, whole.
    assert result.stacks["us-east-1"].template_path.parent == result.outdir
    manifest = json.loads((result.outdir / "manifest.json").read_text())
    assert manifest["artifacts"]["MultiRegionApi"]["properties"]["templateFile"] == (
        "MultiRegionApi.template.json")
    for region in THREE[1:]:
        folder = result.outdir / f"assembly-{region}"
        assert manifest["artifacts"][f"assembly-{region}"] == {
            "type": "cdk:cloud-assembly",
            "properties": {"directoryName": f"assembly-{region}", "displayName": region},
        }
        assert result.stacks[region].template_path == folder / "MultiRegionApi.template.json"
        nested = json.loads((folder / "manifest.json").read_text())
        assert list(nested["artifacts"]) == ["MultiRegionApi"]
    assert "[eu-west-1] stack for eu-west-1" in lines
    again = synth_application(three_regions)
    assert again.cached and again.stacks == result.stacks and len(runs(apps)) == 3


def test_stacks_of_a_nested_assembly_without_environment_are_matched_by_their_names(
    three_regions, apps
):
    use_app(three_regions, apps, "staged.py")
    result = synth_application(three_regions)

    assert sorted(result.stacks) == sorted(THREE)
    stack = result.stacks["ap-southeast-2"]
    assert stack.stack_name == "Prod-Api-ap-southeast-2"
    assert stack.template_path == result.outdir / "assembly-Prod/Prod-Api-ap-southeast-2.template.json"
    assert stack.template["Metadata"]["Context"]["regions"] == "us-east-1,ap-southeast-2,eu-west-1"
    again = synth_application(three_regions)
    assert again.cached and again.stacks == result.stacks


def test_two_stacks_for_one_region_are_a_contract_error(three_regions, apps):
    use_app(three_regions, apps, "all_regions.py", "--twice", "eu-west-1")
    with pytest.raises(SynthError) as caught:
        synth_application(three_regions)
    assert caught.value.kind == "contract"
    assert "2 stacks for region eu-west-1 (orders-eu-west-1, orders-eu-west-1-extra)" in str(
        caught.value
    )


def test_on_line_receives_each_line_while_the_app_is_still_running(three_regions, apps):
    use_app(three_regions, apps, "all_regions.py", "--wait-for-go")
    seen = []

    def on_line(stream, line):
        seen.append((stream, line))
        # The app waits for this file: it only finishes if lines arrive as they are printed.
        (apps.parent / "go").touch()

    result = synth_application(three_regions, on_line=on_line, timeout=60)
    assert [line for stream, line in seen if stream == "stdout"] == [
        "synthesizing 3 regions", "done"
    ]
    assert seen == result.lines


def test_an_app_that_fails_is_reported_with_its_last_error_lines(three_regions, apps):
    use_app(three_regions, apps, "failing.py")
    with pytest.raises(SynthError) as caught:
        synth_application(three_regions)
    error = caught.value
    assert error.kind == "app_failed"
    assert not error.retryable
    assert "exited with code 1" in str(error)
    assert "us-east-1" in str(error)
    assert "hosted zone Z0123456789ABCDEFGHIJ has no record" in str(error)


def test_a_failing_app_shows_its_first_error_line_even_below_a_long_stack_trace(
    three_regions, apps
):
    use_app(three_regions, apps, "long_failure.py", "--node")
    with pytest.raises(SynthError) as caught:
        synth_application(three_regions)
    message = str(caught.value)
    assert caught.value.kind == "app_failed"
    assert message.startswith(
        "The CDK app of orders exited with code 1 while synthesizing region us-east-1. "
        "First error:\n  Error: Stack name must match the regular expression"
    )
    assert "Last lines:\n" in message
    assert message.endswith("at Frame19 (/app/node_modules/aws-cdk-lib/core/lib/f19.js:1:1)")


def test_a_failing_python_app_shows_the_last_line_of_its_traceback(three_regions, apps):
    use_app(three_regions, apps, "long_failure.py", "--python")
    with pytest.raises(SynthError) as caught:
        synth_application(three_regions)
    message = str(caught.value)
    assert "First error:\n  KeyError: 'HOSTED_ZONE_ID'\nLast lines:" in message
    assert message.endswith("cleaning up temporary file 19")


def test_node_npm_and_npx_of_the_pinned_node_run_from_the_apps_path(three_regions, apps):
    use_app(three_regions, apps, "tools.py")
    result = synth_application(three_regions)

    tools = result.stacks["us-east-1"].template["Metadata"]["Tools"]
    assert tools["node"] == {"code": 0, "out": f"v{node_version()}", "err": ""}
    for tool in ("npm", "npx"):
        assert tools[tool]["code"] == 0, tools[tool]["err"]
        assert re.fullmatch(r"\d+\.\d+\.\d+", tools[tool]["out"]), tools[tool]


def test_ts_node_settings_reach_the_app(three_regions, apps, monkeypatch):
    monkeypatch.setenv("TS_NODE_TRANSPILE_ONLY", "true")
    use_app(three_regions, apps, "all_regions.py")
    result = synth_application(three_regions)
    assert result.stacks["us-east-1"].template["Metadata"]["Env"]["TS_NODE_TRANSPILE_ONLY"] == (
        "true")


def test_an_app_that_runs_past_the_timeout_is_stopped_with_its_children(three_regions, apps):
    use_app(three_regions, apps, "slow.py")
    started = time.monotonic()
    with pytest.raises(SynthError) as caught:
        synth_application(three_regions, timeout=2)
    assert time.monotonic() - started < 15
    assert caught.value.kind == "timeout"
    assert caught.value.retryable
    assert "within 2 s" in str(caught.value)
    assert_gone(apps.parent / "pids")


def test_a_child_the_app_leaves_behind_neither_holds_up_the_synth_nor_survives_it(
    three_regions, apps
):
    use_app(three_regions, apps, "lingering.py")
    result = synth_application(three_regions, timeout=60)
    assert sorted(result.stacks) == sorted(THREE)
    assert result.elapsed < 20
    assert_gone(apps.parent / "pids")


def test_a_stack_without_health_check_id_synthesizes_and_shows_it_has_no_such_output(
    three_regions, apps
):
    use_app(three_regions, apps, "all_regions.py", "--no-health-check", "eu-west-1")
    result = synth_application(three_regions)
    assert result.stacks["eu-west-1"].outputs == ["ApiUrl"]
    assert "HealthCheckId" in result.stacks["us-east-1"].outputs


def test_a_region_without_a_stack_is_a_contract_error_naming_the_region(three_regions, apps):
    use_app(three_regions, apps, "all_regions.py", "--skip-region", "ap-southeast-2")
    with pytest.raises(SynthError) as caught:
        synth_application(three_regions)
    assert caught.value.kind == "contract"
    assert "no stack for region ap-southeast-2" in str(caught.value)


def test_an_app_that_writes_no_assembly_is_a_contract_error(three_regions, apps):
    use_app(three_regions, apps, "-c", "print('nothing to see')")
    with pytest.raises(SynthError) as caught:
        synth_application(three_regions)
    assert caught.value.kind == "contract"
    assert "wrote no cloud assembly to CDK_OUTDIR" in str(caught.value)


def test_a_missing_working_folder_is_an_input_error(three_regions, apps):
    use_app(three_regions, apps / "nowhere", "all_regions.py")
    with pytest.raises(SynthError) as caught:
        synth_application(three_regions)
    assert caught.value.kind == "input"
    assert "nowhere" in str(caught.value)
    assert "does not exist" in str(caught.value)


def test_a_command_that_does_not_exist_is_an_input_error(three_regions, apps):
    use_app(three_regions, apps, "all_regions.py")
    three_regions.command = "no-such-cdk-app-runner bin/app.ts"
    three_regions.save()
    with pytest.raises(SynthError) as caught:
        synth_application(three_regions)
    assert caught.value.kind == "input"
    assert "no-such-cdk-app-runner" in str(caught.value)


def test_an_unchanged_plan_is_served_from_the_cache_without_running_the_app(three_regions, apps):
    use_app(three_regions, apps, "all_regions.py")
    first = synth_application(three_regions)
    second = synth_application(three_regions)

    assert len(runs(apps)) == 1
    assert second.cached is True
    assert second.key == first.key
    assert second.outdir == first.outdir
    assert second.elapsed < 1
    assert second.stacks == first.stacks
    assert second.lines == first.lines


def test_a_changed_input_misses_the_cache(three_regions, apps):
    use_app(three_regions, apps, "all_regions.py")
    first = synth_application(three_regions)
    second = synth_application(three_regions, release="r2")
    three_regions.failure_threshold = 5
    three_regions.save()
    third = synth_application(three_regions)

    assert len(runs(apps)) == 3
    assert len({first.key, second.key, third.key}) == 3
    assert not third.cached
    assert third.stacks["us-east-1"].template["Metadata"]["Context"]["failure_threshold"] == 5


def test_a_changed_app_source_file_misses_the_cache(three_regions, apps):
    use_app(three_regions, apps, "all_regions.py")
    first = synth_application(three_regions)
    with (apps / "assembly.py").open("a") as source:
        source.write("\n# a change to the app\n")
    second = synth_application(three_regions)

    assert len(runs(apps)) == 2
    assert second.key != first.key
    assert not second.cached


def test_asking_for_no_cache_synthesizes_again_and_replaces_the_entry(three_regions, apps):
    use_app(three_regions, apps, "all_regions.py")
    first = synth_application(three_regions)
    second = synth_application(three_regions, use_cache=False)

    assert len(runs(apps)) == 2
    assert second.key == first.key and not second.cached
    assert second.stacks["us-east-1"].template_path.is_file()


def test_a_failed_synth_leaves_nothing_behind_in_the_cache(three_regions, apps, cache_dir):
    use_app(three_regions, apps, "all_regions.py", "--skip-region", "eu-west-1")
    with pytest.raises(SynthError):
        synth_application(three_regions)
    assert list(Path(cache_dir).iterdir()) == []


def test_only_the_newest_cache_entries_are_kept(three_regions, apps, cache_dir, settings):
    settings.SYNTH_CACHE_KEEP = 2
    use_app(three_regions, apps, "all_regions.py")
    results = [synth_application(three_regions, release=f"r{n}") for n in range(3)]

    assert sorted(p.name for p in Path(cache_dir).iterdir()) == sorted(
        r.key for r in results[1:]
    )


# The management command


def test_the_synth_command_writes_the_assembly_and_lists_the_stacks(
    three_regions, apps, tmp_path, capsys
):
    use_app(three_regions, apps, "all_regions.py")
    out = tmp_path / "out"
    call_command("synth", "orders", "--out", str(out))

    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split() == ["us-east-1", "orders-us-east-1", "2", "resources"]
    assert len(printed) == 4
    assert printed[-1].startswith("Synthesized 3 stacks in ")
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(manifest["artifacts"]) == sorted(f"orders-{code}" for code in THREE)
    assert (out / "orders-eu-west-1.template.json").is_file()


def test_the_synth_command_shows_the_apps_output_when_verbose(
    three_regions, apps, tmp_path, capsys
):
    use_app(three_regions, apps, "all_regions.py")
    call_command("synth", "orders", "--out", str(tmp_path / "out"), verbosity=2)
    captured = capsys.readouterr()
    assert "synthesizing 3 regions\n" in captured.out
    assert "a warning on stderr\n" in captured.err


def test_the_synth_command_rejects_an_unknown_slug(db, tmp_path):
    with pytest.raises(CommandError, match="No application with the slug 'nope'"):
        call_command("synth", "nope", "--out", str(tmp_path / "out"))


def test_the_synth_command_reports_a_failing_app_as_a_command_error(three_regions, apps, tmp_path):
    use_app(three_regions, apps, "failing.py")
    with pytest.raises(CommandError, match="exited with code 1"):
        call_command("synth", "orders", "--out", str(tmp_path / "out"))


def test_the_synth_command_will_not_overwrite_a_folder_that_is_not_an_assembly(
    three_regions, apps, tmp_path
):
    use_app(three_regions, apps, "all_regions.py")
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(CommandError, match="not a cloud assembly"):
        call_command("synth", "orders", "--out", str(out))
    assert (out / "notes.txt").read_text() == "mine"


# The reference app, for real



@pytest.fixture(scope="module")
def reference_synth(tmp_path_factory):
    application = Application(**APP_DATA)
    cache = tmp_path_factory.mktemp("reference-synth")
    with override_settings(SYNTH_CACHE_DIR=cache):
        first = synth_application(application, regions=THREE)
        second = synth_application(application, regions=THREE)
    return first, second, cache


def test_the_reference_app_synthesizes_three_regions_in_one_run(reference_synth):
    result, _, _ = reference_synth
    assert sorted(result.stacks) == sorted(THREE)
    for region, stack in result.stacks.items():
        assert stack.stack_name == f"orders-{region}"
        assert stack.environment == f"aws://123456789012/{region}"
        assert "HealthCheckId" in stack.outputs
        assert stack.template["Resources"]
    assert not any("end-of-life" in line for _, line in result.lines)


def test_the_reference_app_is_not_synthesized_again_for_an_unchanged_plan(reference_synth):
    first, second, _ = reference_synth
    assert second.cached and second.key == first.key
    assert second.elapsed < 1


def test_the_synth_command_writes_the_reference_apps_assembly(
    reference_synth, three_regions, settings, tmp_path, capsys
):
    # Same inputs as the fixture's synth, derived from the inventory this time: a cache hit.
    settings.SYNTH_CACHE_DIR = reference_synth[2]
    out = tmp_path / "out"
    call_command("synth", "orders", "--out", str(out))

    printed = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in printed[:3]] == [
        ["us-east-1", "orders-us-east-1"],
        ["ap-southeast-2", "orders-ap-southeast-2"],
        ["eu-west-1", "orders-eu-west-1"],
    ]
    assert printed[3].startswith("Synthesized 3 stacks"), printed[3]
    for code in THREE:
        template = json.loads((out / f"orders-{code}.template.json").read_text())
        assert "HealthCheckId" in template["Outputs"]


def test_the_control_planes_own_state_never_counts_as_app_source(tmp_path, settings):
    settings.VAR_DIR = tmp_path / "var"
    settings.SYNTH_CACHE_DIR = tmp_path / "var" / "synth"
    (tmp_path / "app.py").write_text("print('app')\n")
    (tmp_path / "var" / "synth").mkdir(parents=True)
    before = hash_files(tmp_path, lambda path: True)
    (tmp_path / "var" / "meridian.sqlite3").write_bytes(b"changed on every write")
    (tmp_path / "var" / "synth" / "job-1").write_text("a new cache entry")
    assert hash_files(tmp_path, lambda path: True) == before
    (tmp_path / "app.py").write_text("print('app, changed')\n")
    assert hash_files(tmp_path, lambda path: True) != before


def test_output_on_the_other_stream_never_continues_a_traceback():
    """stdout and stderr are read by two threads: their lines interleave in any order."""
    from pathlib import Path

    from deployer.synth.process import Run

    run = Run("us-east-1", ["app"], Path("."), {}, Path("."))
    run.notice("Traceback (most recent call last):", "stderr")
    run.notice("checking inputs", "stdout")
    run.notice('  File "app.py", line 3, in <module>', "stderr")
    run.notice("KeyError: 'HOSTED_ZONE_ID'", "stderr")
    run.notice("cleaning up temporary file 0", "stderr")
    assert run.first_error == ["KeyError: 'HOSTED_ZONE_ID'"]
