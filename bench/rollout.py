"""Benchmark of rollout ordering: main region first, then the others in parallel, against
one region after another.

    .venv/bin/python bench/rollout.py [--delay 3] [--sizes 2,5,11]

Starts a moto server and a real Celery worker (threads pool) on Redis database 14, with a
fresh SQLite database in a temporary folder. moto finishes a stack at once, so each
deployment follows its stack for --delay seconds after execution (DEPLOY_FOLLOW_DELAY), as
CloudFormation would take minutes on AWS. For 1 + N regions it deploys one application with
the engine's ordering and another one region at a time (one rollout per region, each waiting
for the last), and prints both wall times and their ratio; and, for the N regions after the
main one, the time of the parallel wave against the sum of the sequential ones.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REPLICAS = [
    "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2",
    "eu-west-3", "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2",
    "ap-southeast-1", "ap-southeast-2", "sa-east-1",
]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay", type=float, default=5.0,
                        help="seconds each deployment takes after execution")
    parser.add_argument("--sizes", default="2,5,11", help="numbers of regions besides main")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    return parser.parse_args()


def setup(workdir: Path, redis_url: str, moto_url: str) -> dict:
    env = {
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "MERIDIAN_VAR_DIR": str(workdir),
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "TEST_REDIS_URL": redis_url,
        "TEST_KEY_PREFIX": f"bench{os.getpid()}:",
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "DEPLOYER_TEMPLATES": "tests.deployer.conftest.templates",
        "DEPLOY_POLL_INTERVAL": "0.2",
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return env


def start_worker(env: dict, delay: float, log: Path) -> subprocess.Popen:
    from controlplane.celery import app

    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "controlplane", "worker", "-Q", "deploys",
         "--pool", "threads", "--concurrency", "16", "--loglevel", "WARNING",
         "--without-gossip", "--without-mingle", "-n", f"bench-{os.getpid()}@%h"],
        cwd=ROOT, env={**os.environ, **env, "DEPLOY_FOLLOW_DELAY": str(delay)},
        stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=0.5) or []
        if any(f"bench-{os.getpid()}@" in name for r in replies for name in r):
            return proc
        if proc.poll() is not None:
            break
    raise SystemExit("the worker did not start:\n" + log.read_text()[-3000:])


def make_application(slug: str, regions: list[str]):
    from accounts.audit import Actor
    from regions.services import add_region, create_application

    actor = Actor(None, "cli")
    application = create_application({
        "slug": slug, "name": slug, "domain_name": "api.example.com",
        "hosted_zone_id": "Z0123456789ABCDEFGHIJ", "table_name": slug,
        "main_region": "us-east-1", "account_id": "123456789012",
    }, actor)
    for code in regions:
        add_region(application, code, actor)
    # As if deployed before: the rollout updates every region without replica steps.
    application.regions.update(state="active")
    return application


def run(application, only_region: str = ""):
    from deployer import rollouts
    from deployer.models import Status

    rollout = rollouts.start_rollout(application, None, "deploy", only_region=only_region)
    while True:
        rollout.refresh_from_db()
        if rollout.is_finished:
            break
        time.sleep(0.05)
    if rollout.status != Status.SUCCEEDED:
        raise SystemExit(f"rollout {rollout.pk} {rollout.status}: {rollout.explanation}")
    return rollout


def elapsed(rollout) -> float:
    return (rollout.finished_at - rollout.created_at).total_seconds()


def main() -> None:
    args = parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="meridian-bench-rollout-"))
    from tests.fixtures.moto import free_port, start_moto

    port = free_port()
    moto = start_moto(port)
    worker = None
    try:
        env = setup(workdir, args.redis, f"http://127.0.0.1:{port}")
        import redis

        redis.Redis.from_url(args.redis).flushdb()
        worker = start_worker(env, args.delay, workdir / "worker.log")
        # A first rollout warms the worker (imports, clients) so no size pays for it.
        run(make_application("warmup", REPLICAS[:1]))
        print(f"per-region delay {args.delay:.1f} s; worker: 16 threads\n")
        print(f"{'regions':>8} {'ordered s':>10} {'one by one s':>13} {'ratio':>6}"
              f" {'wave s':>7} {'N one by one s':>15} {'wave ratio':>10}")
        for n in sizes:
            codes = REPLICAS[:n]
            ordered = run(make_application(f"par{n}", codes))
            steps = list(ordered.deployments.order_by("step"))
            main_done = steps[0].finished_at
            wave = (max(d.finished_at for d in steps[1:]) - main_done).total_seconds()

            serial_app = make_application(f"seq{n}", codes)
            started = time.monotonic()
            serial = [run(serial_app, code) for code in ["us-east-1", *codes]]
            total_serial = time.monotonic() - started
            serial_replicas = sum(elapsed(r) for r in serial[1:])
            t_ordered = elapsed(ordered)
            print(f"{1 + n:>8} {t_ordered:>10.1f} {total_serial:>13.1f} "
                  f"{total_serial / t_ordered:>6.2f} {wave:>7.1f} {serial_replicas:>15.1f} "
                  f"{serial_replicas / wave:>10.2f}")
    finally:
        if worker is not None and worker.poll() is None:
            os.killpg(worker.pid, 15)
            worker.wait(timeout=30)
        moto.terminate()
        moto.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
