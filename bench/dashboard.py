"""Benchmark of the watch dashboard on PostgreSQL, and of the AWS calls a poll cycle makes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/meridian .venv/bin/python bench/dashboard.py

Creates the database `meridian_bench` next to DATABASE_URL's (dropped at the end), fills it with
--days of one-minute samples for every region and every pair of a --regions application (30 and
7 days: about nine million rows), then prints p50/p95 of the full dashboard page and of the
fragments htmx refreshes, and the SQL queries per render at 3 and --regions regions. Then it
starts a moto server and counts the AWS calls of one poll cycle at 3, 12 and 30 regions."""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH_DB = "meridian_bench"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--regions", type=int, default=30)
    parser.add_argument("--days", type=float, default=7)
    parser.add_argument("--renders", type=int, default=60)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--skip-aws", action="store_true", help="skip the poll-cycle count")
    return parser.parse_args()


def bench_url(url: str) -> tuple[str, str]:
    """(URL of the benchmark database, URL of the maintenance database `postgres`)."""
    base, _, _ = url.rpartition("/")
    return f"{base}/{BENCH_DB}", f"{base}/postgres"


def recreate_database(admin_url: str, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        if not drop_only:
            conn.execute(f"CREATE DATABASE {BENCH_DB}")


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_application(slug: str, codes: list[str]):
    from regions.models import Application, Region

    application = Application.objects.create(
        slug=slug, name=slug, domain_name=f"{slug}.example.com",
        hosted_zone_id="Z0123456789ABCDEFGHIJ", table_name=slug, main_region=codes[0],
        account_id="123456789012")
    Region.objects.bulk_create(
        Region(application=application, code=code, role="main" if i == 0 else "replica",
               state="active", health_check_id=f"hc-{slug}-{code}")
        for i, code in enumerate(codes))
    return application


def fill(application, days: float) -> None:
    """Samples for every region and pair, minute by minute, with INSERT ... SELECT."""
    from django.db import connection

    minutes = int(days * 24 * 60)
    with connection.cursor() as cur:
        cur.execute("""
            INSERT INTO regions_healthsample (region_id, at, status, percentage_healthy)
            SELECT r.id, m,
                   CASE WHEN (extract(epoch FROM m)::bigint / 60 + r.id) %% 997 < 9 THEN 0 ELSE 1 END,
                   80 + (r.id %% 20)
            FROM regions_region r,
                 generate_series(date_trunc('minute', now()) - make_interval(mins => %s),
                                 date_trunc('minute', now()), interval '1 minute') m
            WHERE r.application_id = %s""", [minutes, application.pk])
        cur.execute("""
            INSERT INTO regions_replicationsample (application_id, source, receiving, at,
                                                   latency_ms)
            SELECT s.application_id, s.code, d.code, m, 400 + random() * 2400
            FROM regions_region s
            JOIN regions_region d ON d.application_id = s.application_id AND d.id <> s.id,
                 generate_series(date_trunc('minute', now()) - make_interval(mins => %s),
                                 date_trunc('minute', now()), interval '1 minute') m
            WHERE s.application_id = %s""", [minutes, application.pk])
        cur.execute("""
            INSERT INTO regions_replicationrollup (application_id, source, receiving, bucket,
                                                   avg_ms, max_ms, samples)
            SELECT application_id, source, receiving, date_trunc('hour', at), avg(latency_ms),
                   max(latency_ms), count(*)
            FROM regions_replicationsample WHERE application_id = %s
            GROUP BY 1, 2, 3, 4""", [application.pk])
        cur.execute("""
            INSERT INTO regions_healthchange (region_id, at, healthy, previous)
            SELECT r.id, date_trunc('minute', now()) - make_interval(mins => %s), true, NULL
            FROM regions_region r WHERE r.application_id = %s""", [minutes, application.pk])
    mark_polled(application)


def mark_polled(application) -> None:
    """Poll states as the poller leaves them, with the latest reading of every pair."""
    from django.db import connection
    from django.utils import timezone

    from watch import pollers
    from watch.models import PollState

    latest: dict[str, dict] = {}
    with connection.cursor() as cur:
        cur.execute("""
            SELECT DISTINCT ON (source, receiving) source, receiving, at, latency_ms
            FROM regions_replicationsample WHERE application_id = %s
              AND at >= now() - interval '10 minutes'
            ORDER BY source, receiving, at DESC""", [application.pk])
        for source, receiving, at, ms in cur.fetchall():
            latest.setdefault(source, {})[receiving] = [at.isoformat(), ms]
    codes = list(application.regions.values_list("code", flat=True))
    for key in pollers.poll_keys(application, codes):
        detail = {}
        if key.startswith("replication:"):
            detail = {"latest": latest.get(key.rsplit(":", 1)[1], {})}
        PollState.objects.update_or_create(
            key=key, defaults={"last_success_at": timezone.now(), "detail": detail})


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(client, url: str, renders: int, htmx: bool, cold: bool = False):
    from django.core.cache import cache

    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    for _ in range(3):
        assert client.get(url, **headers).status_code == 200
    timings = []
    for _ in range(renders):
        if cold:
            cache.clear()
        start = time.perf_counter()
        response = client.get(url, **headers)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return statistics.median(timings), percentile(timings, 0.95)


def count_queries(client, url: str, htmx: bool) -> int:
    """Queries of a request with nothing cached (the worst case)."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    with CaptureQueriesContext(connection) as captured:
        client.get(url, **headers)
    return len(captured)


def watch_queries(application) -> int:
    from django.core.cache import cache
    from django.db import connection
    from django.template.loader import render_to_string
    from django.test.utils import CaptureQueriesContext

    from watch import summary

    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        render_to_string("watch/_dashboard.html", summary.dashboard_context(application))
    return len(captured)


def dashboard_bench(args, codes: list[str]) -> list[str]:
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from watch.models import ReplicationSample

    lines = []
    started = time.perf_counter()
    small = make_application("small", codes[:3])
    large = make_application("large", codes[:args.regions])
    fill(small, args.days)
    fill(large, args.days)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    rows = ReplicationSample.objects.count()
    from watch.models import HealthSample

    health_rows = HealthSample.objects.count()
    lines.append(f"data: {args.regions} regions, {args.days:g} days of one-minute samples: "
                 f"{health_rows + rows:,} rows ({rows:,} replication, {health_rows:,} health), "
                 f"generated in {time.perf_counter() - started:.0f} s")
    user = User.objects.create_user("bench")
    user.groups.add(Group.objects.get(name="viewer"))
    client = Client()
    client.force_login(user)
    lines.append("")
    lines.append("| page | regions | p50 ms | p95 ms | SQL queries, cold (request / watch) |")
    lines.append("|---|---|---|---|---|")
    for application in (small, large):
        n = application.regions.count()
        for label, name, htmx, cold in (
                ("full dashboard page", "watch:dashboard", False, False),
                ("full dashboard page, nothing cached", "watch:dashboard", False, True),
                ("tiles fragment", "watch:region_tiles", True, False),
                ("matrix fragment", "watch:replication_matrix", True, False)):
            url = reverse(name, args=[application.slug])
            p50, p95 = measure(client, url, args.renders, htmx, cold)
            total = count_queries(client, url, htmx)
            own = watch_queries(application) if label.startswith("full") else "–"
            lines.append(f"| {label} | {n} | {p50:.1f} | {p95:.1f} | {total} / {own} |")
    return lines


def aws_bench(codes: list[str]) -> list[str]:
    import boto3
    from django.conf import settings

    from lib import aws
    from regions.models import Application
    from tests.fixtures.moto import free_port, start_moto
    from watch import pollers

    port = free_port()
    proc = start_moto(port)
    lines = ["", "| regions | AWS calls per poll cycle | of which GetMetricData | "
             "DescribeTable | Route 53 |", "|---|---|---|---|---|"]
    try:
        url = f"http://127.0.0.1:{port}"
        settings.AWS_ENDPOINT_URL = url
        for name, value in (("AWS_ACCESS_KEY_ID", "bench"), ("AWS_SECRET_ACCESS_KEY", "bench"),
                            ("AWS_DEFAULT_REGION", "us-east-1")):
            os.environ[name] = value
        calls: list[tuple[str, str]] = []
        real_client = aws.client

        def counting_client(service, region, application=None, **overrides):
            client = real_client(service, region, application, **overrides)
            client.meta.events.register(
                "before-call", lambda model, **kw: calls.append((service, model.name)))
            return client

        aws.client = counting_client
        for count in (3, 12, 30):
            Application.objects.all().delete()
            application = make_application(f"calls{count}", codes[:count])
            r53 = boto3.client("route53", endpoint_url=url, region_name="us-east-1")
            for region in application.regions.all():
                check = r53.create_health_check(
                    CallerReference=f"{count}-{region.code}",
                    HealthCheckConfig={"Type": "HTTPS", "Port": 443, "ResourcePath": "/",
                                       "FullyQualifiedDomainName": f"{region.code}.example.com"})
                region.health_check_id = check["HealthCheck"]["Id"]
                region.save(update_fields=["health_check_id"])
            boto3.client("dynamodb", endpoint_url=url, region_name=codes[0]).create_table(
                TableName=application.table_name,
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST")
            calls.clear()
            report = pollers.poll_cycle()
            metric = sum(1 for _, op in calls if op == "GetMetricData")
            describe = sum(1 for _, op in calls if op == "DescribeTable")
            route53 = sum(1 for service, _ in calls if service == "route53")
            errors = f" (errors: {report.errors})" if report.errors else ""
            lines.append(f"| {count} | {len(calls)} | {metric} | {describe} | {route53} |{errors}")
        aws.client = real_client
        Application.objects.all().delete()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return lines


def main() -> None:
    args = parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (its server hosts meridian_bench).")
    target, admin = bench_url(url)
    recreate_database(admin)
    try:
        setup_django(target)
        from regions.validators import known_regions

        # us-east-1 first, as the main region of every benchmark application.
        codes = ["us-east-1"] + sorted(known_regions() - {"us-east-1"})
        if args.regions > len(codes):
            sys.exit(f"At most {len(codes)} regions are known.")
        lines = []
        if not args.skip_aws:
            lines += aws_bench(codes)
        lines = dashboard_bench(args, codes) + lines
        print("\n".join(lines))
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            recreate_database(admin, drop_only=True)


if __name__ == "__main__":
    main()
