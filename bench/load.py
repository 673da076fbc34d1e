"""Reliability under load: a bounded burst on the status API and the dashboard's fragments.

    .venv/bin/python bench/load.py [--requests 2000] [--clients 20]
    .venv/bin/python bench/load.py --url http://127.0.0.1:8000 --password ...   # a running one

Without --url it starts the product as `make run` does (sandbox, on a free loopback port, with
its own var/ folder), deploys the demo application and waits for a first health reading. Then
--clients threads, each on its own keep-alive connection, send --requests GETs in all, in turn
to the status API (bearer token) and to the three fragments the dashboard polls (session),
and it prints the errors (any answer but 200, or no answer) and p50/p95/p99 per target. Only
loopback is ever addressed; the burst stops after --deadline seconds whatever is left."""

import argparse
import http.client
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_product(var: Path, port: int) -> tuple[subprocess.Popen, str]:
    drop = ("REDIS_URL", "DATABASE_URL", "AWS_ENDPOINT_URL", "DJANGO_SETTINGS_MODULE",
            "SECRET_KEY", "TEST_REDIS_URL", "TEST_KEY_PREFIX")
    env = {**{k: v for k, v in os.environ.items() if k not in drop},
           "SANDBOX": "1", "POLL_INTERVAL": "5"}
    log = var / "product.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "controlplane.run", "--port", str(port), "--var-dir",
             str(var)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        password = re.search(r"with password '([^']+)'", text)
        if password and "ready: open" in text:
            return proc, password.group(1)
        if proc.poll() is not None:
            break
        time.sleep(0.5)
    raise SystemExit(f"the product did not start:\n{log.read_text(errors='replace')[-3000:]}")


def stop_product(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


class Session:
    """A logged-in browser: the session cookie, and a token made on the profile page."""

    def __init__(self, url: str, user: str, password: str):
        self.url = url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.opener.open(f"{url}/login/", timeout=30).read()
        self.post("/login/", {"username": user, "password": password})
        page = self.post("/profile/tokens/", {"name": f"load-{int(time.time())}"})
        # The whole key, shown once (the table lists only 12-character prefixes).
        self.token = re.search(r"(mrd_[A-Za-z0-9_-]{40,})", page).group(1)

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.jar if c.name == name)

    def post(self, path: str, fields: dict) -> str:
        data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": self.cookie("csrftoken")})
        request = urllib.request.Request(f"{self.url}{path}", data=data.encode(),
                                         headers={"Referer": f"{self.url}{path}"})
        return self.opener.open(request, timeout=60).read().decode()

    def api(self, method: str, path: str) -> dict:
        request = urllib.request.Request(f"{self.url}/api/v1{path}", method=method,
                                         headers={"Authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(request, timeout=60) as answer:
            return json.loads(answer.read() or b"{}")


def deploy_demo(session: Session, timeout: float = 900) -> str:
    rollout = session.api("POST", "/applications/demo/deploy")
    started = time.monotonic()
    status = rollout["status"]
    while status not in ("succeeded", "failed", "error", "cancelled", "awaiting_confirmation"):
        if time.monotonic() - started > timeout:
            return "timed out"
        time.sleep(1)
        status = session.api("GET", f"/rollouts/{rollout['id']}")["status"]
    # The tiles have something to show once a poll has read the first health samples.
    while time.monotonic() - started < timeout:
        regions = session.api("GET", "/applications/demo/status")["regions"]
        if all(r["health"] != "nodata" for r in regions):
            break
        time.sleep(1)
    return f"{status} in {time.monotonic() - started:.0f} s"


def burst(session: Session, targets: list[tuple[str, dict]], total: int, clients: int,
          deadline: float) -> dict[str, list]:
    host, port = urllib.parse.urlsplit(session.url).netloc.split(":")
    cookie = f"sessionid={session.cookie('sessionid')}"
    results: dict[str, list] = {path: [] for path, _ in targets}
    counter = iter(range(total))
    lock = threading.Lock()
    stop_at = time.monotonic() + deadline

    def client() -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        while time.monotonic() < stop_at:
            with lock:
                number = next(counter, None)
            if number is None:
                break
            path, headers = targets[number % len(targets)]
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers={**headers, "Cookie": cookie})
                answer = conn.getresponse()
                answer.read()
                outcome = answer.status
            except (OSError, http.client.HTTPException) as exc:
                outcome = type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
            with lock:
                results[path].append((outcome, time.perf_counter() - started))
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(share) - 1]


def report(results: dict[str, list], elapsed: float) -> int:
    errors_total = 0
    every = []
    print(f"{'target':<36} {'sent':>5} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
    for path, rows in results.items():
        times = [seconds * 1000 for _, seconds in rows]
        errors = [outcome for outcome, _ in rows if outcome != 200]
        errors_total += len(errors)
        every += times
        print(f"{path:<36} {len(rows):>5} {len(errors):>6} {percentile(times, 50):>7.0f} "
              f"{percentile(times, 95):>7.0f} {percentile(times, 99):>7.0f}")
        if errors:
            print(f"    errors: {sorted(set(map(str, errors)))}")
    print(f"{'all':<36} {len(every):>5} {errors_total:>6} {percentile(every, 50):>7.0f} "
          f"{percentile(every, 95):>7.0f} {percentile(every, 99):>7.0f}")
    print(f"{len(every)} requests in {elapsed:.1f} s: {len(every) / elapsed:.0f} per second")
    return errors_total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--deadline", type=float, default=300, help="seconds, at most")
    parser.add_argument("--url", help="a running product on loopback, e.g. http://127.0.0.1:8000")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", help="with --url")
    parser.add_argument("--no-deploy", action="store_true", help="measure the demo as it is")
    parser.add_argument("--keep", action="store_true", help="keep the product's var/ folder")
    args = parser.parse_args()
    if args.url and urllib.parse.urlsplit(args.url).hostname not in ("127.0.0.1", "localhost"):
        raise SystemExit("--url must be on loopback (127.0.0.1 or localhost)")

    proc = None
    var = Path(tempfile.mkdtemp(prefix="meridian-load-"))
    try:
        if args.url:
            url, password = args.url.rstrip("/"), args.password
        else:
            port = free_port()
            proc, password = start_product(var, port)
            url = f"http://127.0.0.1:{port}"
            print(f"product on {url} (log: {var / 'product.log'})")
        session = Session(url, args.user, password)
        if not args.no_deploy:
            print(f"demo deployed: {deploy_demo(session)}")
        targets = [
            ("/api/v1/applications/demo/status", {"Authorization": f"Bearer {session.token}"}),
            ("/applications/demo/tiles/?range=1h", {"HX-Request": "true"}),
            ("/watch/demo/tiles/?range=1h", {"HX-Request": "true"}),
            ("/watch/demo/matrix/?range=1h", {"HX-Request": "true"}),
        ]
        print(f"burst: {args.requests} GETs from {args.clients} clients on keep-alive "
              "connections")
        started = time.monotonic()
        results = burst(session, targets, args.requests, args.clients, args.deadline)
        errors = report(results, time.monotonic() - started)
    finally:
        if proc is not None:
            stop_product(proc)
        if not args.keep:
            shutil.rmtree(var, ignore_errors=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
