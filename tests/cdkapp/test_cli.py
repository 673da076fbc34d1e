"""The apps run as the control plane runs them: a subprocess, inputs in, templates or a clear error out."""

import json
import subprocess

import pytest

from tests.cdkapp.conftest import REPO, SIX_REGIONS, app_env, run_app

CFN_LINT = REPO / ".venv" / "bin" / "cfn-lint"


def test_it_passes_cfn_lint_for_every_template_of_six_regions(six_regions):
    files = sorted(str(six_regions.outdir / f"orders-{r}.template.json") for r in SIX_REGIONS)
    result = subprocess.run(
        [str(CFN_LINT), "--format", "parseable", "--regions", *SIX_REGIONS, "--", *files],
        capture_output=True, text=True, timeout=300,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.parametrize("module", ["deployer.cdkapp", "deployer.sandboxapp"])
def test_it_exits_2_with_a_one_line_message_when_inputs_are_missing(module, tmp_path):
    result = run_app(module, app_env(CDK_OUTDIR=str(tmp_path / "out"), REGIONS="us-east-1,eu-west-1"))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{module.split('.')[-1]}: error: missing input main_region (context key 'main_region' or env MAIN_REGION)",
    ]
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_it_exits_2_naming_the_input_that_is_wrong(tmp_path):
    context = {
        "regions": "us-east-1,eu-west-1", "main_region": "us-east-1", "replica_regions": "us-east-1",
        "domain_name": "api.example.com", "hosted_zone_id": "Z0123456789ABC", "table_name": "orders",
        "account": "123456789012",
    }
    result = run_app("deployer.cdkapp", app_env(CDK_OUTDIR=str(tmp_path), CDK_CONTEXT_JSON=json.dumps(context)))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr == "cdkapp: error: replica_regions must not contain the main region us-east-1\n"
