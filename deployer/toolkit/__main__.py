"""`python -m deployer.toolkit`: install the asset publisher once per lockfile."""

import subprocess
import sys

from . import FOLDER, install

try:
    if install(quiet=True):
        print(f"Installed the asset publisher in {FOLDER / 'node_modules'}.")
except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
    sys.exit(f"The asset publisher could not be installed: {exc}")
