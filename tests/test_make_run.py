"""`make run` as a new user runs it: no REDIS_URL, no AWS account."""

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from celery import Celery

from tests.fixtures.moto import free_port

ROOT = Path(__file__).resolve().parents[1]


def wait_for_line(log: Path, pattern: str, proc: subprocess.Popen, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = re.search(pattern, log.read_text())
        if match:
            return match
        if proc.poll() is not None:
            raise AssertionError(f"make run exited early:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    raise AssertionError(f"no {pattern!r} within {timeout}s:\n{log.read_text()[-3000:]}")


@pytest.mark.slow
def test_the_product_starts_without_redis_serves_the_login_page_and_stops_cleanly(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("REDIS_URL", "DATABASE_URL", "AWS_ENDPOINT_URL", "DJANGO_SETTINGS_MODULE",
                        "SECRET_KEY", "TEST_REDIS_URL")}
    log = tmp_path / "run.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "controlplane.run", "--port", str(port),
             "--var-dir", str(tmp_path / "var")],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        broker_port = wait_for_line(log, r"Valkey broker on port (\d+)", proc).group(1)
        wait_for_line(log, r"ready: open", proc)
        password = wait_for_line(log, r"with password '([^']+)'", proc).group(1)
        assert password

        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=10).read()
        assert b"Log in to Meridian" in page
        assert b"Sandbox \xe2\x80\x94 local AWS emulator, no real resources" in page

        # A task goes through the private broker to the deploys worker, which reads the
        # database: the reaper finds nothing to settle in a fresh installation.
        url = f"redis://127.0.0.1:{broker_port}/0"
        client = Celery(broker=url, backend=url)
        result = client.send_task("deployer.tasks.reap_deployments", queue="deploys")
        assert result.get(timeout=60) == []
        client.close()

        # manage.py in the checkout reaches the running broker and local AWS without exports.
        command = {k: v for k, v in env.items() if k != "SANDBOX"}
        command["MERIDIAN_VAR_DIR"] = str(tmp_path / "var")
        emitted = subprocess.run([sys.executable, "manage.py", "sandbox", "emit"], cwd=ROOT,
                                 env=command, capture_output=True, text=True, timeout=120)
        assert emitted.returncode == 0, emitted.stderr
        assert "AWS calls" in emitted.stdout

        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 6
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    assert "meridian | stopped" in log.read_text()
    assert not (tmp_path / "var" / "running.env").exists()
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
