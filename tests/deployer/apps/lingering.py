"""A test app that finishes its work but leaves a child behind holding its stdout open."""

import subprocess
import sys

from assembly import HERE, context, template, write

child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
(HERE.parent / "pids").write_text(f"{child.pid}\n")
ctx = context()
regions = ctx["regions"].split(",")
write({f"{ctx['app_name']}-{r}": (r, template(r)) for r in regions}, ctx["account"])
print("done, but my child lingers", flush=True)
