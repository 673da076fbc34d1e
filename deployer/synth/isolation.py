"""Own app commands run isolated from the control plane (docs/app-contract.md, "Trust").

An own app's command is code the control plane did not write. It runs:
- in its own PID namespace with its own /proc (`unshare`), so no process of the control plane
  is visible to it: `/proc/$PPID/environ` and the workers' command lines are out of reach;
- as an unprivileged user (APP_UID) when the worker runs as root, so the control plane's files
  (the SQLite database, var/secret_key, the broker's data) are not readable to it: those are
  made private to their owner before the first isolated run;
- with only the contract's environment (deployer.synth.inputs builds it), its output folder and
  HOME in a private temporary folder that the control plane copies the assembly out of.
"""

import os
import shutil
import stat
import subprocess
import tempfile
from functools import cache
from pathlib import Path

from django.conf import settings

from .errors import SynthError

# The control plane's own state: private to its owner once apps run as another user.
PRIVATE_FILES = ("secret_key", "admin-password", "celerybeat-schedule*", "*.sqlite3*")
PRIVATE_DIRS = ("valkey",)


def running_as_root() -> bool:
    return os.geteuid() == 0


@cache
def unshare_works() -> str:
    """Empty when `unshare` can give a command its own PID namespace here, else why not."""
    argv = [*_namespace_prefix(), "true"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    except FileNotFoundError:
        return "the unshare command (util-linux) is not installed"
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare could not run: {exc}"
    if done.returncode != 0:
        return (done.stderr.strip().splitlines() or ["unshare failed"])[-1]
    return ""


def _namespace_prefix() -> list[str]:
    prefix = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"]
    if not running_as_root():
        # Without root, a user namespace is what allows the PID and mount namespaces.
        prefix.insert(1, "--user")
        prefix.insert(2, "--map-root-user")
    return prefix


def check_workdir(workdir: Path) -> None:
    """An own app runs only from inside one of APP_ROOTS."""
    resolved = workdir.resolve()
    roots = [Path(root).expanduser().resolve() for root in settings.APP_ROOTS]
    if not any(resolved == root or root in resolved.parents for root in roots):
        allowed = ", ".join(str(root) for root in roots) or "none (APP_ROOTS is empty)"
        raise SynthError("input", f"The app's working folder {resolved} is outside the folders "
                                  f"own apps may run from: {allowed}. Move the app or add its "
                                  "folder to APP_ROOTS.")


def unreadable_for(uid: int, gid: int, folder: Path) -> Path | None:
    """The first folder on the way to `folder` (itself included) that uid:gid cannot enter or
    list, judged from the permission bits; None when the way is open."""
    for path in [*reversed(folder.parents), folder]:
        try:
            info = path.stat()
        except OSError:
            return path
        if info.st_uid == uid:
            bits = (info.st_mode >> 6) & 0o7
        elif info.st_gid == gid:
            bits = (info.st_mode >> 3) & 0o7
        else:
            bits = info.st_mode & 0o7
        needed = 0o5 if path == folder else 0o1
        if bits & needed != needed:
            return path
    return None


@cache
def protect_state(var_dir: str) -> None:
    """Make the control plane's state private before code of others runs as another user."""
    root = Path(var_dir)
    if not root.is_dir():
        return
    # Others may pass through var/ (the Node launchers live below it) but not list or read it.
    root.chmod(root.stat().st_mode & ~(stat.S_IRGRP | stat.S_IROTH | stat.S_IWGRP | stat.S_IWOTH))
    for pattern in PRIVATE_FILES:
        for path in root.glob(pattern):
            if path.is_file():
                path.chmod(0o600)
    for name in PRIVATE_DIRS:
        if (root / name).is_dir():
            (root / name).chmod(0o700)


class Isolated:
    """One isolated run: the command wrapped, a private output folder, and copying out."""

    def __init__(self, argv: list[str], env: dict, outdir: Path, cwd: Path):
        if not settings.APP_ISOLATION:
            raise ValueError("isolation is off")
        problem = unshare_works()
        if problem:
            raise SynthError("input", "Own app commands run isolated (APP_ISOLATION), and this "
                                      f"machine cannot isolate them: {problem}. Install "
                                      "util-linux's unshare or allow namespaces, or set "
                                      "APP_ISOLATION=false to trust whoever sets app commands.")
        protect_state(str(settings.VAR_DIR))
        if running_as_root():
            blocked = unreadable_for(settings.APP_UID, settings.APP_GID, Path(cwd).resolve())
            if blocked is not None:
                raise SynthError("input", f"Own apps run as user {settings.APP_UID}, which cannot "
                                          f"read {blocked}: make the app's folder and its parents "
                                          "readable by others (chmod o+rx), move the app, or set "
                                          "APP_UID to a user that can read it.")
        self.outdir = outdir
        self.scratch = Path(tempfile.mkdtemp(prefix="meridian-app-"))
        home = self.scratch / "home"
        out = self.scratch / "out"
        home.mkdir()
        out.mkdir()
        prefix = _namespace_prefix()
        if running_as_root():
            for path in (self.scratch, home, out):
                os.chown(path, settings.APP_UID, settings.APP_GID)
            prefix += ["setpriv", f"--reuid={settings.APP_UID}", f"--regid={settings.APP_GID}",
                       "--clear-groups", "--inh-caps=-all", "--"]
        self.argv = [*prefix, *argv]
        self.env = {**env, "CDK_OUTDIR": str(out), "HOME": str(home),
                    "TMPDIR": str(self.scratch)}

    def collect(self) -> None:
        """Copy what the app wrote to the run's output folder, then drop the scratch folder.

        Links are refused: one pointing at a file of the control plane would be read with the
        control plane's rights when the assembly is."""
        try:
            out = self.scratch / "out"
            links = [path for path in out.rglob("*") if path.is_symlink()]
            if links:
                raise SynthError("contract", "The app wrote symbolic links into its cloud "
                                             f"assembly ({links[0].relative_to(out)}); an "
                                             "assembly must hold plain files.")
            shutil.copytree(out, self.outdir, dirs_exist_ok=True)
        finally:
            self.discard()

    def discard(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)
