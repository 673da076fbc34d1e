"""`make run`: the whole product on one machine, as one supervised group.

Starts, as needed: a private Valkey broker, data in var/ (when REDIS_URL is unset), moto server as
the local AWS (sandbox mode, when AWS_ENDPOINT_URL is unset), then migrates, makes sure there
is an admin, and runs the web server, a deploy worker, a polling worker and beat. Ctrl-C stops
them all; if one of them dies, the others are stopped too and the exit code says so."""

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def log(message: str) -> None:
    print(f"meridian | {message}", flush=True)


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.2)
    return False


def secret_key(var_dir: Path) -> str:
    """A stable random key for this checkout, kept in var/ (git-ignored)."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(50)
    path.write_text(key)
    path.chmod(0o600)
    return key


RUNNING = "running.env"
SHARED_WITH_COMMANDS = ("REDIS_URL", "AWS_ENDPOINT_URL")


def write_running(var_dir: Path, env: dict) -> None:
    lines = [f"{name}={env[name]}" for name in SHARED_WITH_COMMANDS if env.get(name)]
    path = var_dir / RUNNING
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)


class Group:
    """Child processes started in their own process groups, stopped together."""

    def __init__(self):
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.stopping = False

    def start(self, name: str, argv: list[str], env: dict) -> subprocess.Popen:
        proc = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True, text=True, bufsize=1,
        )
        threading.Thread(target=self._pump, args=(name, proc), daemon=True).start()
        self.procs.append((name, proc))
        return proc

    @staticmethod
    def _pump(name: str, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            print(f"{name:<8} | {line}", end="", flush=True)

    def first_dead(self) -> tuple[str, int] | None:
        for name, proc in self.procs:
            code = proc.poll()
            if code is not None:
                return name, code
        return None

    def stop(self, timeout: float = 15) -> None:
        self.stopping = True
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + timeout
        for name, proc in reversed(self.procs):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log(f"{name} did not stop in time; killing it")
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


def run_step(argv: list[str], env: dict) -> None:
    result = subprocess.run(argv, cwd=ROOT, env=env)
    if result.returncode != 0:
        raise SystemExit(f"meridian | step failed: {' '.join(argv[1:])}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--var-dir", default=os.environ.get("MERIDIAN_VAR_DIR", str(ROOT / "var")))
    parser.add_argument("--no-seed", action="store_true", help="Do not create the demo data.")
    args = parser.parse_args(argv)

    var_dir = Path(args.var_dir).resolve()
    var_dir.mkdir(parents=True, exist_ok=True)
    if not port_free(args.port, args.host):
        log(f"port {args.port} is in use; stop what runs there or run `PORT=8001 make run`")
        return 1

    env = {**os.environ}
    env.setdefault("MERIDIAN_VAR_DIR", str(var_dir))
    sandbox = env.get("SANDBOX", "").lower() not in ("0", "false", "no", "off")
    if sandbox:
        env["SANDBOX"] = "1"
    env.setdefault("DEBUG", "0")
    env.setdefault("SECRET_KEY", secret_key(var_dir))
    env.setdefault("ALLOWED_HOSTS", f"localhost,127.0.0.1,[::1],{args.host}")
    # Served over plain HTTP on loopback: no TLS redirect, no secure-only cookies.
    for name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
        env.setdefault(name, "0")
    env.setdefault("SECURE_HSTS_SECONDS", "0")
    env.setdefault("STATIC_ROOT", str(var_dir / "static"))
    env["PYTHONUNBUFFERED"] = "1"

    group = Group()

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    # Also when started from a script, where SIGINT may arrive ignored.
    signal.signal(signal.SIGINT, on_signal)
    try:
        if not env.get("REDIS_URL"):
            port = free_port()
            broker = group.start("broker", [PY, "-m", "controlplane.broker", "--port", str(port),
                                            "--data-dir", str(var_dir / "valkey")], env)
            if not wait_for_port(port, 30, broker):
                log("the private broker did not start")
                return 1
            env["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
            log(f"no REDIS_URL set: started a private Valkey broker on port {port}")
        if sandbox and not env.get("AWS_ENDPOINT_URL"):
            port = int(env.get("MOTO_PORT", "0")) or free_port()
            moto = group.start("aws", [PY, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               {**env, "MOTO_ALLOW_NONEXISTENT_REGION": "true"})
            if not wait_for_port(port, 60, moto):
                log("moto server (the local AWS) did not start")
                return 1
            env["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
            for name, value in (("AWS_ACCESS_KEY_ID", "sandbox"),
                                ("AWS_SECRET_ACCESS_KEY", "sandbox"),
                                ("AWS_DEFAULT_REGION", "us-east-1")):
                env.setdefault(name, value)
            log(f"sandbox: local AWS emulator (moto server) on {env['AWS_ENDPOINT_URL']}")

        manage = [PY, "manage.py"]
        run_step([*manage, "migrate", "--noinput", "-v", "0"], env)
        run_step([*manage, "collectstatic", "--noinput", "-v", "0"], env)
        run_step([*manage, "ensure_admin"], env)
        if sandbox and not args.no_seed:
            run_step([*manage, "seed_sandbox"], env)
        if sandbox:
            # The emulator starts empty: what the database says is deployed is deployed again.
            run_step([*manage, "restore_sandbox"], env)

        group.start("web", [
            PY, "-m", "gunicorn", "controlplane.wsgi:application",
            "--bind", f"{args.host}:{args.port}", "--workers", "2", "--threads", "4",
            "--access-logfile", "-", "--graceful-timeout", "5",
        ], env)
        celery = [PY, "-m", "celery", "-A", "controlplane"]
        # Two workers on one machine need no gossip or mingle (broadcasts the private broker
        # handles poorly at start-up).
        quiet = ["--without-gossip", "--without-mingle", "--loglevel", "INFO"]
        group.start("deploys", [*celery, "worker", "-Q", "deploys", "--pool", "threads",
                                "--concurrency", "8", "-n", "deploys@%h", *quiet], env)
        group.start("polling", [*celery, "worker", "-Q", "polling,default", "--pool", "threads",
                                "--concurrency", "4", "-n", "polling@%h", *quiet], env)
        group.start("beat", [*celery, "beat", "--loglevel", "INFO",
                             "--schedule", str(var_dir / "celerybeat-schedule")], env)
        url = f"http://{'localhost' if args.host in ('127.0.0.1', '0.0.0.0') else args.host}:{args.port}/"
        if wait_for_port(args.port, 60):
            try:
                urllib.request.urlopen(url + "healthz", timeout=10)
            except OSError:
                pass
            log(f"ready: open {url}  (Ctrl-C stops everything)")
            # manage.py in this checkout reaches the same broker and local AWS while we run.
            write_running(var_dir, env)
        while True:
            dead = group.first_dead()
            if dead:
                name, code = dead
                log(f"{name} exited with code {code}; stopping the rest")
                return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        log("stopping")
        return 0
    finally:
        (var_dir / RUNNING).unlink(missing_ok=True)
        group.stop()
        log("stopped")


if __name__ == "__main__":
    sys.exit(main())
