"""Benchmark of the region switch in the sandbox: from the drain request to Route 53 updated,
and to the DNS answer shifting, for 3 and 12 regions; and the Route 53 calls each change makes.

    .venv/bin/python bench/switch.py [--sizes 3,12] [--runs 5]

Starts a moto server and uses a fresh SQLite database in a temporary folder and Redis
database 14 (the Route 53 request budget). For each size it creates one application whose
regions carry routing health checks and latency records in moto, as the sandbox app's stacks
leave them, all healthy. Then --runs times it drains a region through the API (an operator's
bearer token, Django's test client: the whole request), reads when Route 53 was updated, polls
the sandbox's DNS answers until clients near the region are answered by another region, and
restores it the same way; each change starts with the budget idle (the answers are polled
through it too). It counts the Route 53 requests (each takes a slot of the budget,
ROUTE53_RATE a second) and the UpdateHealthCheck calls of each change."""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="3,12", help="numbers of regions")
    parser.add_argument("--runs", type=int, default=5, help="drains timed per size")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    return parser.parse_args()


def setup(workdir: Path, args, moto_url: str) -> None:
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "MERIDIAN_VAR_DIR": str(workdir),
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "TEST_REDIS_URL": args.redis,
        "TEST_KEY_PREFIX": f"bench{os.getpid()}:",
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_MAX_ATTEMPTS": "2", "SANDBOX": "1",
    })
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.SANDBOX = True
    settings.AWS_ENDPOINT_URL = moto_url
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    call_command("migrate", verbosity=0)


def route53_counter() -> dict:
    """Count every Route 53 request by operation, as the budget sees them."""
    from lib import route53_budget

    counts: dict[str, int] = {}
    real = route53_budget.route53_client

    def counted(*args, **kwargs):
        client = real(*args, **kwargs)

        def count(model, **_):
            counts[model.name] = counts.get(model.name, 0) + 1

        client.meta.events.register("before-call.route-53", count)
        return client

    route53_budget.route53_client = counted
    return counts


def build(slug: str, codes: list[str]):
    """An application of `codes` with routing checks, drain alarms and latency records."""
    from datetime import timedelta

    from django.utils import timezone

    from lib import aws
    from regions.models import Application, Region
    from traffic import routing
    from watch.models import HealthSample

    route53 = aws.client("route53", "us-east-1")
    zone = route53.create_hosted_zone(Name=f"{slug}.example.com",
                                      CallerReference=str(uuid.uuid4()))["HostedZone"]["Id"]
    application = Application.objects.create(
        slug=slug, name=slug.title(), domain_name=f"api.{slug}.example.com",
        hosted_zone_id=zone.rsplit("/", 1)[-1], table_name=slug, main_region=codes[0],
        account_id="123456789012")
    changes = []
    at = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=1)
    for n, code in enumerate(codes):
        def check(config: dict) -> str:
            return route53.create_health_check(CallerReference=str(uuid.uuid4()),
                                               HealthCheckConfig=config)["HealthCheck"]["Id"]
        endpoint = check({"Type": "HTTPS", "FullyQualifiedDomainName": f"{code}.example.com",
                          "Port": 443, "ResourcePath": "/prod/health"})
        control = check({"Type": "CLOUDWATCH_METRIC", "AlarmIdentifier": {
            "Region": routing.control_region(application),
            "Name": routing.alarm_name(slug, code)}, "InsufficientDataHealthStatus":
            "LastKnownStatus"})
        checked = check({"Type": "CALCULATED", "ChildHealthChecks": [endpoint, control],
                         "HealthThreshold": 2})
        routing.ensure_alarm(application, code)
        region = Region.objects.create(
            application=application, code=code, role="main" if n == 0 else "replica",
            state="active", health_check_id=endpoint,
            outputs={"HealthCheckId": endpoint, "ControlCheckId": control,
                     "RoutingCheckId": checked})
        HealthSample.objects.create(region=region, at=at, status=1.0)
        changes.append({"Action": "CREATE", "ResourceRecordSet": {
            "Name": f"api.{slug}.example.com.", "Type": "A", "TTL": 60, "SetIdentifier": code,
            "Region": code, "HealthCheckId": checked,
            "ResourceRecords": [{"Value": f"192.0.2.{n + 1}"}]}})
    route53.change_resource_record_sets(HostedZoneId=application.hosted_zone_id,
                                        ChangeBatch={"Changes": changes})
    return application


def api_client():
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from accounts.models import ApiToken
    from accounts.roles import ensure_role_groups

    ensure_role_groups()
    user, _ = User.objects.get_or_create(username="bench-operator")
    user.groups.add(Group.objects.get(name="operator"))
    _token, key = ApiToken.issue(user, "bench")
    return Client(headers={"Authorization": f"Bearer {key}"})


def switch(client, application, code: str, state: str) -> tuple[float, dict]:
    started = time.perf_counter()
    answer = client.post(f"/api/v1/applications/{application.slug}/regions/{code}/traffic",
                         data=json.dumps({"state": state}), content_type="application/json")
    took = time.perf_counter() - started
    if answer.status_code != 200:
        raise SystemExit(f"{state} {code}: {answer.status_code} {answer.content!r}")
    return took, answer.json()


def served(application, code: str) -> str | None:
    from traffic import dns

    return next(a.answer for a in dns.simulated_answers(application) if a.client == code)


def time_runs(client, application, codes: list[str], runs: int, counts: dict) -> list[dict]:
    results = []
    for code in (codes[1:] * runs)[:runs]:
        time.sleep(1.1)  # each change starts with the Route 53 budget idle
        counts.clear()
        took, body = switch(client, application, code, "drained")
        drain_calls = dict(counts)
        started = time.perf_counter() - took
        while served(application, code) == code:
            time.sleep(0.01)
        shifted = time.perf_counter() - started
        time.sleep(1.1)
        counts.clear()
        restore_took, _ = switch(client, application, code, "serving")
        restore_calls = dict(counts)
        while served(application, code) != code:
            time.sleep(0.01)
        results.append({"request": took, "route53": body["seconds_to_route53"],
                        "shift": shifted, "restore": restore_took,
                        "drain_calls": drain_calls, "restore_calls": restore_calls,
                        "path": body["path"]})
    return results


def main() -> None:
    args = parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="meridian-bench-switch-"))
    from tests.fixtures.moto import free_port, start_moto

    port = free_port()
    moto = start_moto(port)
    lines = ["| regions | request → Route 53 updated (s, median / max) | request → DNS answer "
             "shifted (s, median / max) | restore request (s, median) | UpdateHealthCheck per "
             "change | Route 53 calls per drain / restore | budget (calls/s) |",
             "|---|---|---|---|---|---|---|"]
    try:
        setup(workdir, args, f"http://127.0.0.1:{port}")
        from django.conf import settings

        from regions.validators import known_regions

        counts = route53_counter()
        client = api_client()
        codes = ["us-east-1"] + sorted(known_regions() - {"us-east-1"})
        for size in sizes:
            application = build(f"bench{size}", codes[:size])
            client.get("/api/v1/applications")  # warm the first request's imports
            results = time_runs(client, application, codes[:size], args.runs, counts)
            r53 = [r["route53"] for r in results]
            shift = [r["shift"] for r in results]
            updates = {r["drain_calls"].get("UpdateHealthCheck", 0) for r in results} | {
                r["restore_calls"].get("UpdateHealthCheck", 0) for r in results}
            drains = statistics.median(sum(r["drain_calls"].values()) for r in results)
            restores = statistics.median(sum(r["restore_calls"].values()) for r in results)
            lines.append(
                f"| {size} | {statistics.median(r53):.3f} / {max(r53):.3f} | "
                f"{statistics.median(shift):.3f} / {max(shift):.3f} | "
                f"{statistics.median(r['restore'] for r in results):.3f} | "
                f"{', '.join(str(u) for u in sorted(updates))} | {drains:.0f} / {restores:.0f} | "
                f"{settings.ROUTE53_RATE} |")
            print(lines[-1], flush=True)
        print("\n".join(lines))
    finally:
        moto.terminate()
        moto.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
