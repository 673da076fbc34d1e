"""An app command that tries every way we know to read the control plane's secrets, and prints
what it found. Arguments: files to try to read."""

import glob
import os
import sys

found = []
for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "AWS_SECRET_ACCESS_KEY",
             "AWS_ACCESS_KEY_ID"):
    if os.environ.get(name):
        found.append(f"env {name}={os.environ[name]}")
paths = [f"/proc/{os.getppid()}/environ", "/proc/1/environ", *glob.glob("/proc/[0-9]*/environ"),
         *glob.glob("/proc/[0-9]*/cmdline"), *sys.argv[1:]]
for path in paths:
    try:
        with open(path, "rb") as handle:
            text = handle.read().replace(b"\0", b"\n").decode("utf-8", "replace")
    except OSError as exc:
        print(f"denied {path}: {exc.strerror}")
        continue
    found.append(f"read {path}: {text}")
for line in found:
    print("FOUND", line)
print(f"pid {os.getpid()} uid {os.getuid()} processes {len(glob.glob('/proc/[0-9]*'))}")
sys.exit(1)
