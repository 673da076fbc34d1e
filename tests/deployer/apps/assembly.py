"""What every test app shares: read the inputs, write a cloud assembly by hand (no aws-cdk),
and leave a trace of each run next to the app's folder."""

import json
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNS_LOG = HERE.parent / "runs.log"

SEEN_ENV = (
    "AWS_REGION", "CDK_DEFAULT_REGION", "REGIONS", "MAIN_REGION", "REPLICATION_REGIONS",
    "DOMAIN_NAME", "HOSTED_ZONE_ID", "TABLE_NAME", "CDK_DEFAULT_ACCOUNT", "APP_NAME",
    "CDK_OUTDIR", "SECRET_KEY", "DATABASE_URL", "TS_NODE_TRANSPILE_ONLY", "TS_NODE_PROJECT",
)


def context() -> dict:
    return json.loads(os.environ.get("CDK_CONTEXT_JSON") or "{}")


def record_run(label: str) -> None:
    with RUNS_LOG.open("a") as log:
        log.write(label + "\n")


def template(region: str, *, health_check: bool = True) -> dict:
    outputs = {"ApiUrl": {"Value": f"https://{region}.api.example.com/prod/"}}
    if health_check:
        outputs["HealthCheckId"] = {"Value": {"Ref": "HealthCheck"}}
    return {
        "Metadata": {
            "Context": context(),
            "Env": {name: os.environ.get(name) for name in SEEN_ENV},
            "Node": shutil.which("node"),
            "Argv": sys.argv[1:],
        },
        "Resources": {
            "HealthCheck": {
                "Type": "AWS::Route53::HealthCheck",
                "Properties": {"HealthCheckConfig": {"Type": "HTTPS", "FullyQualifiedDomainName":
                                                     f"{region}.api.example.com"}},
            },
            "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
        },
        "Outputs": outputs,
    }


def write(stacks: dict[str, tuple[str, dict]], account: str) -> None:
    """stacks: stack name -> (region, template)."""
    outdir = Path(os.environ["CDK_OUTDIR"])
    outdir.mkdir(parents=True, exist_ok=True)
    artifacts = {}
    for name, (region, body) in stacks.items():
        (outdir / f"{name}.template.json").write_text(json.dumps(body))
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "environment": f"aws://{account}/{region}",
            "properties": {"templateFile": f"{name}.template.json"},
        }
    manifest = {"version": "48.0.0", "artifacts": artifacts}
    (outdir / "manifest.json").write_text(json.dumps(manifest, indent=1))
