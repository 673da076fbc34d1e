"""A test app whose error line is followed by more lines than a failure message's tail holds:
a Node-style stack trace (--node) or a Python traceback and then cleanup output (--python)."""

import sys
import traceback

from assembly import record_run

record_run("long_failure")
print("checking inputs", flush=True)
if "--python" in sys.argv:
    try:
        {}["HOSTED_ZONE_ID"]
    except KeyError:
        traceback.print_exc()
    for n in range(20):
        print(f"cleaning up temporary file {n}", file=sys.stderr)
else:
    print("/app/node_modules/aws-cdk-lib/core/lib/stack.js:1", file=sys.stderr)
    print("Error: Stack name must match the regular expression: /^[A-Za-z][A-Za-z0-9-]*$/",
          file=sys.stderr)
    for n in range(20):
        print(f"    at Frame{n} (/app/node_modules/aws-cdk-lib/core/lib/f{n}.js:1:1)",
              file=sys.stderr)
sys.exit(1)
