"""A real HTTP receiver on loopback, applications with watched regions, and polls written the
way the poller writes them (samples, health flips, poll state)."""

import json
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from accounts.audit import Actor
from alerts import services
from regions.models import RegionState
from regions.services import add_region
from watch import pollers
from watch.models import PollState, ReplicationSample


class Receiver:
    """Collects every POST as (path, JSON body)."""

    def __init__(self):
        self.posts: list[tuple[str, dict]] = []
        self.status = 200
        received = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"raw": raw.decode(errors="replace")}
                received.posts.append((self.path, body))
                self.send_response(received.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str = "hook") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def messages(self, path: str = "/hook") -> list[dict]:
        return [body for where, body in self.posts if where == path]

    def wait_for(self, count: int, path: str = "/hook", timeout: float = 30) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.messages(path)) < count:
            time.sleep(0.1)
        return self.messages(path)


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def dead_url():
    """A json:// URL on a loopback port where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"json://127.0.0.1:{port}/dead"


@pytest.fixture
def watched(application, admin_user):
    """'orders' serving from us-east-1 and eu-west-1, each with a health check."""
    add_region(application, "eu-west-1", Actor(admin_user, "cli"))
    an_hour_ago = timezone.now() - timedelta(hours=1)
    application.regions.update(state=RegionState.ACTIVE, state_changed_at=an_hour_ago)
    for region in application.regions.all():
        region.health_check_id = f"hc-{region.code}"
        region.save(update_fields=["health_check_id"])
    return application


def channel(admin_user, url: str, name: str = "ops", **extra):
    return services.create_channel({"name": name, "url": url, **extra}, Actor(admin_user, "cli"))


def _polled(key: str, now, detail: dict | None = None) -> None:
    values = {"last_attempt_at": now, "last_success_at": now}
    if detail is not None:
        values["detail"] = detail
    PollState.objects.update_or_create(key=key, defaults=values)


def poll_health(application, healthy: dict[str, bool], now=None) -> None:
    """One health poll: this minute's status per region, stored by the poller's own code."""
    now = now or timezone.now()
    regions = list(application.regions.exclude(state=RegionState.PLANNED))
    points = {}
    for region in regions:
        value = 1.0 if healthy.get(region.code, True) else 0.0
        points[(region.pk, "status")] = [(now, value)]
        points[(region.pk, "percentage")] = [(now, 100.0 * value)]
    pollers.store_health(regions, points)
    _polled(pollers.health_key(application), now)


def poll_replicas(application, statuses: dict[str, str], now=None) -> None:
    now = now or timezone.now()
    _polled(pollers.replicas_key(application), now,
            {"table_status": "ACTIVE", "reported": True, "replicas": statuses})


def poll_lag(application, source: str, receiving: str, ms_by_minute: list[float], now=None):
    """One sample a minute ending at the current minute, oldest first."""
    now = now or timezone.now()
    minute = now.replace(second=0, microsecond=0)
    for back, value in enumerate(reversed(ms_by_minute)):
        ReplicationSample.objects.update_or_create(
            application=application, source=source, receiving=receiving,
            at=minute - timedelta(minutes=back), defaults={"latency_ms": value})
    key = pollers.replication_key(application, source)
    state = PollState.objects.filter(key=key).first()
    latest = dict((state.detail or {}).get("latest", {})) if state else {}
    latest[receiving] = [minute.isoformat(), ms_by_minute[-1]]
    _polled(key, now, {"latest": latest})


def poll_everything_fine(application, now=None) -> None:
    """Every source read just now, all quiet."""
    now = now or timezone.now()
    codes = sorted(application.regions.values_list("code", flat=True))
    poll_health(application, {}, now)
    poll_replicas(application, {c: "ACTIVE" for c in codes}, now)
    for source in codes:
        for receiving in codes:
            if source != receiving:
                poll_lag(application, source, receiving, [800.0], now)


from tests.api.conftest import admin_api, api_as  # noqa: E402,F401 - the API's own clients
