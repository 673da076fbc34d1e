"""First-run benchmark of `make run`, as a new user meets it.

    .venv/bin/python bench/first_run.py [--keep]

1. Clones this repository (its committed HEAD) into a temporary folder, so the virtualenv
   is empty, and times `make run` until the login page answers: the *fresh* figure includes
   creating the virtualenv and installing every pinned dependency from the package index.
2. Stops it (Ctrl-C) and times a second `make run` in the same clone until the login page
   answers: the *set-up* figure.
3. Deploys the seeded three-region demo application through the JSON API and samples the
   resident memory of the whole process tree (the supervisor, broker, local AWS, web
   server, workers and beat, and the synth's Python and Node) every 100 ms until the
   rollout ends, and prints the peak.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env() -> dict:
    drop = ("REDIS_URL", "DATABASE_URL", "AWS_ENDPOINT_URL", "DJANGO_SETTINGS_MODULE",
            "SECRET_KEY", "VIRTUAL_ENV", "SANDBOX")
    return {k: v for k, v in os.environ.items() if k not in drop}


def start(clone: Path, port: int, log: Path) -> tuple[subprocess.Popen, float]:
    env = {**clean_env(), "PORT": str(port)}
    started = time.monotonic()
    out = open(log, "ab")  # noqa: SIM115 - kept open for the child's lifetime
    proc = subprocess.Popen(["make", "run"], cwd=clone, env=env, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/login/"
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"make run exited:\n{log.read_text()[-3000:]}")
        try:
            if urllib.request.urlopen(url, timeout=2).status == 200:
                return proc, time.monotonic() - started
        except OSError:
            pass
        if time.monotonic() - started > 1200:
            raise SystemExit("the login page did not answer within 20 minutes")
        time.sleep(0.25)


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def group_rss(pid: int) -> int:
    """Resident memory of `make run` and every process below it (each service runs in its own
    session so Ctrl-C reaches it through the supervisor; a process group would miss them)."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            continue
    return total


def api(port: int, token: str, method: str, path: str) -> dict:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1{path}", method=method,
                                 headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=30) as answer:
        return json.loads(answer.read() or b"{}")


def deploy_peak(clone: Path, proc: subprocess.Popen, port: int) -> tuple[float, float, str]:
    env = {**clean_env(), "MERIDIAN_VAR_DIR": str(clone / "var"),
           "SECRET_KEY": (clone / "var" / "secret_key").read_text().strip(), "SANDBOX": "1"}
    token = subprocess.run(
        [str(clone / ".venv/bin/python"), "manage.py", "create_api_token", "admin",
         "--name", "bench"], cwd=clone, env=env, capture_output=True, text=True, check=True,
    ).stdout
    token = re.search(r"(mrd_\S+)", token).group(1)
    peak = 0
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, group_rss(proc.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    idle = group_rss(proc.pid)
    sampler.start()
    started = time.monotonic()
    rollout = api(port, token, "POST", "/applications/demo/deploy")
    status = rollout.get("status")
    while status not in ("succeeded", "failed", "error", "cancelled", "awaiting_confirmation"):
        time.sleep(0.5)
        status = api(port, token, "GET", f"/rollouts/{rollout['id']}")["status"]
        if time.monotonic() - started > 600:
            status = "timed out"
            break
    elapsed = time.monotonic() - started
    done.set()
    sampler.join()
    return idle / 2**20, peak / 2**20, f"{status} in {elapsed:.1f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="Keep the clone for a look.")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="meridian-first-run-"))
    clone = workdir / "meridian"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    log = workdir / "make-run.log"
    print(f"clone: {clone}  (log: {log})")
    try:
        port = free_port()
        proc, fresh = start(clone, port, log)
        print(f"fresh clone, empty virtualenv → login page: {fresh:7.1f} s")
        stop(proc)
        port = free_port()
        proc, again = start(clone, port, log)
        print(f"already set up → login page:                {again:7.1f} s")
        time.sleep(5)  # let the workers finish starting before measuring the idle group
        idle, peak, outcome = deploy_peak(clone, proc, port)
        print(f"process group memory, idle:                 {idle:7.0f} MiB")
        print(f"process group memory, peak during deploy:   {peak:7.0f} MiB  (3 regions, {outcome})")
        stop(proc)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
