"""The private broker of `make run`: a real Valkey server whose queues survive a restart."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from tests.fixtures.moto import free_port

ROOT = Path(__file__).resolve().parents[1]


def start(port: int, data: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "controlplane.broker", "--port", str(port),
                             "--data-dir", str(data)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline()
    assert "Valkey server on 127.0.0.1" in line, line
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0


@pytest.mark.slow
def test_queued_work_survives_a_restart_of_the_broker(tmp_path):
    port = free_port()
    proc = start(port, tmp_path / "valkey")
    try:
        client = redis.Redis(port=port)
        client.lpush("deploys", "a queued deploy")
        time.sleep(1.5)  # the append-only file is written every second
    finally:
        stop(proc)

    proc = start(port, tmp_path / "valkey")
    try:
        assert redis.Redis(port=port).lrange("deploys", 0, -1) == [b"a queued deploy"]
    finally:
        stop(proc)


@pytest.mark.slow
def test_a_busy_port_is_one_line_not_a_traceback(tmp_path):
    port = free_port()
    first = start(port, tmp_path / "one")
    try:
        second = subprocess.run([sys.executable, "-m", "controlplane.broker", "--port", str(port),
                                 "--data-dir", str(tmp_path / "two")], cwd=ROOT,
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 1
        assert second.stderr.startswith("broker: cannot start Valkey on port")
        assert "Traceback" not in second.stderr
    finally:
        stop(first)
