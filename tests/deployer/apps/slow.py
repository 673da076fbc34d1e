"""A test app that hangs with a child process, to prove a timeout stops the whole group."""

import os
import subprocess
import sys
import time

from assembly import HERE

child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
(HERE.parent / "pids").write_text(f"{os.getpid()} {child.pid}\n")
print("thinking", flush=True)
time.sleep(120)
