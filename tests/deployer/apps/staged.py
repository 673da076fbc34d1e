"""A test app built like a CDK app with a Stage: the stacks sit in a nested assembly and are
environment-agnostic, so only their names say which region they are for."""

import json
import os
from pathlib import Path

from assembly import context, record_run, template

ctx = context()
regions = ctx["regions"].split(",")
record_run("staged")
outdir = Path(os.environ["CDK_OUTDIR"])
nested = outdir / "assembly-Prod"
nested.mkdir(parents=True)
artifacts = {}
for region in regions:
    name = f"Prod-Api-{region}"
    (nested / f"{name}.template.json").write_text(json.dumps(template(region)))
    artifacts[name] = {
        "type": "aws:cloudformation:stack",
        "environment": "aws://unknown-account/unknown-region",
        "properties": {"templateFile": f"{name}.template.json"},
    }
(nested / "manifest.json").write_text(json.dumps({"version": "48.0.0", "artifacts": artifacts}))
(outdir / "manifest.json").write_text(json.dumps({"version": "48.0.0", "artifacts": {
    "assembly-Prod": {"type": "cdk:cloud-assembly",
                      "properties": {"directoryName": "assembly-Prod", "displayName": "Prod"}},
}}))
