"""Entry point shared by the reference and the sandbox app: read inputs, build stacks, synth."""

import json
import os
import sys
from collections.abc import Callable, Mapping

import aws_cdk as cdk

from deployer.cdkapp.inputs import CONTEXT_KEYS, InputError, Inputs, read_inputs

EXIT_BAD_INPUT = 2
EXIT_VALIDATION_FAILED = 3


def main(prog: str, build: Callable[[cdk.App, Inputs], object],
         environ: Mapping[str, str] | None = None) -> int:
    """Run like the CDK CLI runs an app: context from CDK_CONTEXT_JSON, output to CDK_OUTDIR.

    With `environ` (a warm synth), context and output folder come from it, not the process."""
    # As the CDK CLI runs an app: no stack trace recorded with each construct's metadata.
    options = dict(analytics_reporting=False, stack_traces=False)
    if environ is None:
        environ, app = os.environ, cdk.App(**options)
    else:
        app = cdk.App(**options, outdir=environ["CDK_OUTDIR"],
                      context=json.loads(environ.get("CDK_CONTEXT_JSON") or "{}"))
    context = {key: app.node.try_get_context(key) for key in CONTEXT_KEYS}
    try:
        inputs = read_inputs(context, environ)
    except InputError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    build(app, inputs)
    for index, replicas in enumerate(inputs.replica_steps):
        # Each replica step's main stack in a nested assembly: one app start for a whole plan.
        build(cdk.Stage(app, f"replica-step-{index}"), inputs.step(replicas))
    try:
        app.synth()
    except RuntimeError as exc:
        # A failed policy check (cdk-nag) has printed its report already; the traceback adds nothing.
        if "ValidationFailed" not in str(exc):
            raise
        print(f"{prog}: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return EXIT_VALIDATION_FAILED
    return 0
