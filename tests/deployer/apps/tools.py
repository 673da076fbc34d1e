"""A test app that runs `node`, `npm` and `npx` from its PATH, as `npx ts-node …` and npm
scripts do, and records what each printed in its templates' metadata."""

import subprocess

from assembly import context, template, write

found = {}
for tool in ("node", "npm", "npx"):
    done = subprocess.run([tool, "--version"], capture_output=True, text=True, timeout=60)
    found[tool] = {"code": done.returncode, "out": done.stdout.strip(), "err": done.stderr[-500:]}
ctx = context()
stacks = {}
for region in ctx["regions"].split(","):
    body = template(region)
    body["Metadata"]["Tools"] = found
    stacks[f"{ctx['app_name']}-{region}"] = (region, body)
write(stacks, ctx["account"])
