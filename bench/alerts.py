"""Benchmark of alerts: the delay from an outage injected in the sandbox to the message on a
receiver, and the cost of one evaluation cycle, at 3 and 30 regions.

    .venv/bin/python bench/alerts.py [--sizes 3,30] [--runs 3] [--interval 30] [--probe-interval 10]

Starts a moto server, a real Celery worker (queues polling and default, threads pool) and beat
in sandbox mode with POLL_INTERVAL=--interval and PROBE_INTERVAL=--probe-interval, on Redis database 14 and a fresh SQLite database
in a temporary folder, and an HTTP receiver on loopback behind a json:// channel. For each size
it deploys one application (regions active, the table in moto), waits for two poll cycles, then
--runs times, at a random moment of the poll cycle, injects an outage into another region the
way the fault button does and times until the receiver has the message (default rules: two
unhealthy polls, or two failed probes). Then it counts the SQL queries, the AWS calls and the time of an evaluation
cycle with every source fresh and the outages open."""

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="3,30", help="numbers of regions")
    parser.add_argument("--runs", type=int, default=3, help="outages timed per size")
    parser.add_argument("--interval", type=int, default=30, help="POLL_INTERVAL in seconds")
    parser.add_argument("--probe-interval", type=int, default=10,
                        help="PROBE_INTERVAL in seconds (0: Route 53's metric only)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    return parser.parse_args()


class Receiver:
    def __init__(self):
        self.posts: list[tuple[float, dict]] = []
        received = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.posts.append((time.monotonic(), json.loads(body or b"{}")))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}/hook"

    def first(self, words: str, after: float, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, body in list(self.posts):
                if at >= after and words in body.get("message", ""):
                    return at
            time.sleep(0.05)
        return None


def setup(workdir: Path, args, moto_url: str) -> dict:
    env = {
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "MERIDIAN_VAR_DIR": str(workdir),
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "TEST_REDIS_URL": args.redis,
        "TEST_KEY_PREFIX": f"bench{os.getpid()}:",
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_MAX_ATTEMPTS": "2",
        "SANDBOX": "1", "POLL_INTERVAL": str(args.interval),
        "PROBE_INTERVAL": str(args.probe_interval),
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return env


def start(argv: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "controlplane", *argv],
                            cwd=ROOT, env={**os.environ, **env}, stdout=log.open("ab"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def wait_for_worker(proc, log: Path) -> None:
    from controlplane.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        replies = app.control.ping(timeout=0.5) or []
        if any(f"bench-{os.getpid()}@" in name for r in replies for name in r):
            return
    raise SystemExit("the worker did not start:\n" + log.read_text()[-3000:])


def deploy(slug: str, codes: list[str], url: str):
    import boto3

    from accounts.audit import Actor
    from alerts import services as alerts
    from regions.models import Application, Region

    application = Application.objects.create(
        slug=slug, name=slug.title(), domain_name=f"{slug}.example.com",
        hosted_zone_id="Z0123456789ABCDEFGHIJ", table_name=slug, main_region=codes[0],
        account_id="123456789012")
    Region.objects.bulk_create(
        Region(application=application, code=code, role="main" if i == 0 else "replica",
               state="active", health_check_id=f"hc-{slug}-{code}", stack_name=f"{slug}-{code}")
        for i, code in enumerate(codes))
    boto3.client("dynamodb", region_name=codes[0]).create_table(
        TableName=slug, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST")
    alerts.create_channel({"name": slug, "url": url, "applications": [slug]}, Actor(None, "cli"))
    return application


def wait_for_polls(application, cycles: int, interval: int) -> None:
    from watch import pollers
    from watch.models import PollState

    key = pollers.health_key(application)
    seen: set = set()
    deadline = time.monotonic() + interval * (cycles + 2) + 30
    while time.monotonic() < deadline and len(seen) < cycles:
        state = PollState.objects.filter(key=key).first()
        if state and state.last_success_at:
            seen.add(state.last_success_at)
        time.sleep(0.5)


def time_outages(application, receiver: Receiver, runs: int, interval: int) -> list[float]:
    from accounts.audit import Actor
    from sandbox import services as sandbox

    delays = []
    replicas = list(application.regions.exclude(role="main").order_by("code"))
    for region in replicas[:runs]:
        time.sleep(random.uniform(0, interval))
        started = time.monotonic()
        sandbox.inject(region, "outage", Actor(None, "cli"))
        arrived = receiver.first(f"{region.code} is unhealthy", started, interval * 3 + 30)
        delays.append(arrived - started if arrived else float("inf"))
    return delays


def evaluation_cost(samples: int = 5) -> tuple[int, int, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from alerts.evaluate import evaluate
    from lib import aws

    calls = []
    real = aws.client
    aws.client = lambda *a, **k: calls.append(a) or real(*a, **k)
    times, queries = [], 0
    try:
        for _ in range(samples):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                evaluate()
                times.append((time.perf_counter() - started) * 1000)
            queries = len(captured)
    finally:
        aws.client = real
    return queries, len(calls), statistics.median(times)


def main() -> None:
    args = parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="meridian-bench-alerts-"))
    from tests.fixtures.moto import free_port, start_moto

    port = free_port()
    moto = start_moto(port)
    procs = []
    lines = ["| regions | outage → message (s), each run | max | goal (interval + 5 s) | "
             "SQL queries per evaluation | AWS calls | evaluation (ms, median) |",
             "|---|---|---|---|---|---|---|"]
    try:
        env = setup(workdir, args, f"http://127.0.0.1:{port}")
        from regions.validators import known_regions

        codes = ["us-east-1"] + sorted(known_regions() - {"us-east-1"})
        receiver = Receiver()
        log = workdir / "celery.log"
        worker = start(["worker", "-Q", "polling,default", "--pool", "threads", "--concurrency",
                        "4", "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
                        "-n", f"bench-{os.getpid()}@%h"], env, log)
        procs.append(worker)
        wait_for_worker(worker, log)
        procs.append(start(["beat", "--loglevel", "WARNING", "--schedule",
                            str(workdir / "beat")], env, log))
        for size in sizes:
            from regions.models import Application

            Application.objects.all().delete()
            application = deploy(f"bench{size}", codes[:size], receiver.url())
            wait_for_polls(application, 2, args.interval)
            delays = time_outages(application, receiver, min(args.runs, size - 1), args.interval)
            queries, aws_calls, took = evaluation_cost()
            shown = ", ".join(f"{d:.1f}" for d in delays)
            lines.append(f"| {size} | {shown} | {max(delays):.1f} | {args.interval + 5} | "
                         f"{queries} | {aws_calls} | {took:.0f} |")
            print(lines[-1], flush=True)
        print("\n".join(lines))
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        moto.terminate()
        moto.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
