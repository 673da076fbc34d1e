"""A test app that fails the way a broken CDK app does: a message on stderr, exit code 1."""

import sys

from assembly import record_run

record_run("failing")
print("checking inputs", flush=True)
print("Error: hosted zone Z0123456789ABCDEFGHIJ has no record for api.example.com", file=sys.stderr)
sys.exit(1)
