"""replica_steps: one run of the reference app writes every replica step's main stack."""

import json

import pytest

from deployer.cdkapp.inputs import InputError, read_inputs
from tests.cdkapp.conftest import ACCOUNT, BASE, app_env, run_app
from tests.cdkapp.test_inputs import ENV

STEPS = [[], ["eu-west-1"], ["eu-west-1", "ap-southeast-2"]]


def test_it_reads_the_replica_steps_from_context_or_from_the_environment_as_json():
    from_context = read_inputs({"replica_steps": STEPS}, ENV)
    from_env = read_inputs({}, {**ENV, "REPLICA_STEPS": json.dumps(STEPS)})
    assert from_context.replica_steps == from_env.replica_steps == (
        (), ("eu-west-1",), ("eu-west-1", "ap-southeast-2"))
    step = from_env.step(("eu-west-1",))
    assert (step.regions, step.replica_regions, step.replica_steps) == (
        ("us-east-1",), ("eu-west-1",), ())


@pytest.mark.parametrize("steps, message", [
    ("eu-west-1", "JSON list of region lists"),
    ([["us-east-1"]], "must not contain the main region"),
    ([["mars-1"]], "is not an AWS region name"),
])
def test_it_refuses_replica_steps_that_are_not_lists_of_replicas(steps, message):
    with pytest.raises(InputError, match=message):
        read_inputs({"replica_steps": steps}, ENV)


def test_one_run_writes_each_steps_main_stack_in_a_nested_assembly_under_its_real_name(tmp_path):
    env = dict(REGIONS="us-east-1,eu-west-1,ap-southeast-2", MAIN_REGION="us-east-1",
               REPLICATION_REGIONS="eu-west-1,ap-southeast-2", DOMAIN_NAME=BASE["domain_name"],
               HOSTED_ZONE_ID=BASE["hosted_zone_id"], TABLE_NAME=BASE["table_name"],
               CDK_DEFAULT_ACCOUNT=ACCOUNT, APP_NAME="orders", REPLICA_STEPS=json.dumps(STEPS))
    result = run_app("deployer.cdkapp", app_env(CDK_OUTDIR=str(tmp_path), **env))
    assert result.returncode == 0, result.stderr

    manifest = json.loads((tmp_path / "manifest.json").read_text())
    stacks = [a["properties"].get("stackName", name) for name, a in manifest["artifacts"].items()
              if a["type"] == "aws:cloudformation:stack"]
    assert sorted(stacks) == ["orders-ap-southeast-2", "orders-eu-west-1", "orders-us-east-1"]
    for index, replicas in enumerate(STEPS):
        nested = manifest["artifacts"][f"assembly-replica-step-{index}"]
        folder = tmp_path / nested["properties"]["directoryName"]
        inner = json.loads((folder / "manifest.json").read_text())
        [stack] = [a for a in inner["artifacts"].values() if a["type"] == "aws:cloudformation:stack"]
        assert stack["properties"]["stackName"] == "orders-us-east-1"
        template = json.loads((folder / stack["properties"]["templateFile"]).read_text())
        [table] = [r for r in template["Resources"].values()
                   if r["Type"] == "AWS::DynamoDB::GlobalTable"]
        assert sorted(r["Region"] for r in table["Properties"]["Replicas"]) == sorted(
            ["us-east-1", *replicas])
