"""Synthesized assemblies shared by the CDK app tests: each synth runs once per session."""

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from deployer.cdkapp.node import use_wheel_node

use_wheel_node()  # before the first aws_cdk import starts the jsii kernel

import aws_cdk as cdk  # noqa: E402

from deployer.cdkapp import stacks as reference  # noqa: E402
from deployer.cdkapp.inputs import ENV_VARS, Inputs, read_inputs  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
SIX_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-1", "ap-southeast-2", "eu-central-1", "us-west-2"]
BASE = {
    "main_region": "us-east-1",
    "domain_name": "api.example.com",
    "hosted_zone_id": "Z0123456789ABCDEFGHIJ",
    "table_name": "orders",
    "account": ACCOUNT,
    "app_name": "orders",
}


@dataclass
class Assembly:
    """A cloud assembly on disk: its manifest and its templates by stack name."""

    outdir: Path
    inputs: Inputs
    manifest: dict
    templates: dict[str, dict]

    @classmethod
    def load(cls, outdir: Path, inputs: Inputs) -> "Assembly":
        manifest = json.loads((outdir / "manifest.json").read_text())
        templates = {
            name: json.loads((outdir / artifact["properties"]["templateFile"]).read_text())
            for name, artifact in manifest["artifacts"].items()
            if artifact["type"] == "aws:cloudformation:stack"
        }
        return cls(outdir, inputs, manifest, templates)

    def template(self, region: str) -> dict:
        return self.templates[self.inputs.stack_name(region)]


def synth(build, outdir: Path, context: dict) -> Assembly:
    """Synthesize in this process, with inputs from context only (the runner's env must not leak in)."""
    app = cdk.App(outdir=str(outdir), context=context, analytics_reporting=False)
    inputs = read_inputs(context, {})
    build(app, inputs)
    app.synth()
    return Assembly.load(outdir, inputs)


def app_env(**extra: str) -> dict[str, str]:
    """The test process' environment without any input of the app contract."""
    drop = {var for vars_ in ENV_VARS.values() for var in vars_} | {"CDK_CONTEXT_JSON", "CDK_OUTDIR"}
    return {**{k: v for k, v in os.environ.items() if k not in drop}, **extra}


def run_app(module: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module], cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )


@pytest.fixture(scope="session")
def one_region(tmp_path_factory) -> Assembly:
    return synth(reference.build, tmp_path_factory.mktemp("one"), {
        **BASE, "regions": ["us-east-1"], "replica_regions": [], "nag": True,
    })


@pytest.fixture(scope="session")
def two_regions(tmp_path_factory) -> Assembly:
    return synth(reference.build, tmp_path_factory.mktemp("two"), {
        **BASE, "regions": "us-east-1,eu-west-1", "replica_regions": "eu-west-1", "nag": True,
        "stage": "live", "health_check_interval": 10, "failure_threshold": 2,
    })


@pytest.fixture(scope="session")
def six_regions(tmp_path_factory) -> Assembly:
    """The app run the way the control plane runs it: a subprocess, inputs as env vars and context."""
    outdir = tmp_path_factory.mktemp("six")
    context = {"nag": True}
    env = dict(
        REGIONS=",".join(SIX_REGIONS),
        MAIN_REGION="us-east-1",
        # A step of adding regions one at a time: fewer replicas than regions.
        REPLICATION_REGIONS="eu-west-1,ap-southeast-2",
        DOMAIN_NAME=BASE["domain_name"],
        HOSTED_ZONE_ID=BASE["hosted_zone_id"],
        TABLE_NAME=BASE["table_name"],
        CDK_DEFAULT_ACCOUNT=ACCOUNT,
        APP_NAME="orders",
    )
    result = run_app("deployer.cdkapp", app_env(CDK_OUTDIR=str(outdir), CDK_CONTEXT_JSON=json.dumps(context), **env))
    assert result.returncode == 0, result.stderr
    return Assembly.load(outdir, read_inputs(context, env))


@pytest.fixture(scope="session", params=["one_region", "two_regions", "six_regions"])
def assembly(request) -> Assembly:
    return request.getfixturevalue(request.param)
