"""`python -m deployer.cdkapp.server deployer.sandboxapp`: a warm synth of a built-in app.

Reads one request a line on stdin (the environment of one app run, as JSON: CDK_OUTDIR,
CDK_CONTEXT_JSON and the contract's variables), synthesizes it with a fresh App and answers
one JSON line on stdout: {"code": exit code, "lines": [[stream, line], ...]}. The jsii kernel
and the library it loaded stay for the next request; end of input ends the process."""

import contextlib
import importlib
import io
import json
import sys
import traceback

from deployer.cdkapp.node import use_wheel_node

use_wheel_node()  # before aws_cdk is imported: the jsii kernel starts with the first import

import aws_cdk as cdk  # noqa: E402

from deployer.cdkapp.cli import main  # noqa: E402


def answer(prog: str, build, environ: dict) -> dict:
    out, err = io.StringIO(), io.StringIO()
    # A staged asset is cached by its source: without this it would stay in the last outdir.
    cdk.AssetStaging.clear_asset_hash_cache()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(prog, build, environ)
        except Exception:  # noqa: BLE001 - reported like a crashed app: exit 1 and its traceback
            traceback.print_exc()
            code = 1
    lines = [["stdout", line] for line in out.getvalue().splitlines()]
    lines += [["stderr", line] for line in err.getvalue().splitlines()]
    return {"code": code, "lines": lines}


def serve(module: str) -> int:
    build = importlib.import_module(f"{module}.stacks").build
    prog = module.rpartition(".")[2]
    replies = sys.stdout
    sys.stdout = sys.stderr  # nothing the app prints may be taken for an answer
    for request in sys.stdin:
        replies.write(json.dumps(answer(prog, build, json.loads(request))) + "\n")
        replies.flush()
    return 0


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1]))
