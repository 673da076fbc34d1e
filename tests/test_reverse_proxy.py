"""Clients that trickle their headers hold gunicorn's sync workers when they reach it directly,
but not through the Caddy of docker-compose.yml: /healthz still answers at once."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.fixtures.moto import free_port

ROOT = Path(__file__).resolve().parents[1]
TRICKLERS = 3

pytestmark = pytest.mark.slow


def _wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{proc.args[0]} exited with {proc.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"nothing listens on {port}")


def _stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def _caddyfile(tmp_path: Path) -> Path:
    """deploy/Caddyfile as it is, except that Debian's Caddy 2.6 predates the buffer options
    (a Caddy of any version reads a request's headers whole before it proxies it)."""
    text = (ROOT / "deploy" / "Caddyfile").read_text()
    version = subprocess.run(["caddy", "version"], capture_output=True, text=True).stdout
    if re.match(r"v?2\.[0-6]\.", version):
        text = re.sub(r"^\s*(request|response)_buffers .*\n", "", text, flags=re.M)
    path = tmp_path / "Caddyfile"
    path.write_text(text)
    return path


@pytest.fixture
def gunicorn(tmp_path):
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "controlplane.settings", "DEBUG": "0",
           "SECRET_KEY": "reverse-proxy-test-key-0123456789-abcdefghijklmnop",
           "MERIDIAN_VAR_DIR": str(tmp_path), "ALLOWED_HOSTS": "127.0.0.1",
           "SECURE_SSL_REDIRECT": "0", "TRUST_PROXY_HEADERS": "1"}
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "controlplane.wsgi:application", "--bind",
         f"127.0.0.1:{port}", "--workers", "2", "--timeout", "30"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    _wait_for_port(port, proc)
    yield port
    _stop(proc)


@pytest.fixture
def caddy(gunicorn, tmp_path):
    if shutil.which("caddy") is None:
        if os.environ.get("CI"):
            pytest.fail("caddy is missing (apt-get install caddy; .ci/run does it)")
        pytest.skip("caddy is not installed (apt-get install caddy)")
    port = free_port()
    env = {**os.environ, "MERIDIAN_DOMAIN": f"http://127.0.0.1:{port}",
           "MERIDIAN_UPSTREAM": f"127.0.0.1:{gunicorn}", "XDG_DATA_HOME": str(tmp_path),
           "XDG_CONFIG_HOME": str(tmp_path)}
    proc = subprocess.Popen(
        ["caddy", "run", "--config", str(_caddyfile(tmp_path)), "--adapter", "caddyfile"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    _wait_for_port(port, proc)
    yield port
    _stop(proc)


def trickle(port: int) -> list[socket.socket]:
    """Connections that have sent part of a request's headers and then nothing."""
    sockets = []
    for _ in range(TRICKLERS):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        sockets.append(sock)
    time.sleep(0.5)
    return sockets


def healthz(port: int, timeout: float) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=timeout) as answer:
        return answer.status


def test_trickling_clients_hold_gunicorn_when_it_is_reached_directly(gunicorn):
    sockets = trickle(gunicorn)
    try:
        with pytest.raises(OSError):
            healthz(gunicorn, timeout=3)
    finally:
        for sock in sockets:
            sock.close()


def test_through_the_proxy_healthz_answers_at_once_despite_trickling_clients(caddy):
    sockets = trickle(caddy)
    try:
        started = time.monotonic()
        assert healthz(caddy, timeout=10) == 200
        assert time.monotonic() - started < 2
    finally:
        for sock in sockets:
            sock.close()
