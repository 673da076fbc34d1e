"""Meridian's own probe of each region's health endpoint, and what the tiles say of it."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from accounts.audit import Actor
from regions.models import RegionState
from regions.services import add_region
from watch import probes
from watch.models import HealthProbe
from watch.tasks import probe_regions

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint():
    """A health endpoint on loopback; set .status to what it answers."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.server.paths.append(self.path)
            self.send_response(self.server.status)
            self.end_headers()
            self.wfile.write(b'{"ok": true}')

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.status, server.paths = 200, []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def serving(application, admin_user, endpoint, settings):
    settings.SANDBOX = False
    add_region(application, "eu-west-1", Actor(admin_user, "cli"))
    port = endpoint.server_address[1]
    application.regions.update(state=RegionState.ACTIVE,
                               api_url=f"http://127.0.0.1:{port}/prod/")
    return application


def test_a_region_that_answers_its_health_endpoint_is_recorded_ok_with_its_latency(serving,
                                                                                   endpoint):
    assert probe_regions() == {"probed": 2, "failing": 0}
    assert endpoint.paths == ["/prod/health", "/prod/health"]
    probe = HealthProbe.objects.get(region__code="eu-west-1")
    assert probe.ok and probe.failures == 0 and probe.latency_ms is not None
    assert probe.detail == "HTTP 200" and not probe.simulated


def test_failures_are_counted_in_a_row_from_the_first_one(serving, endpoint):
    probe_regions()
    endpoint.status = 503
    probe_regions()
    first = HealthProbe.objects.get(region__code="eu-west-1")
    probe_regions()
    probe = HealthProbe.objects.get(region__code="eu-west-1")
    assert (probe.ok, probe.failures, probe.detail) == (False, 2, "HTTP 503")
    assert probe.since == first.since < probe.checked_at


def test_a_closed_port_fails_within_the_timeout(serving, settings):
    settings.PROBE_TIMEOUT = 1
    serving.regions.filter(code="eu-west-1").update(api_url="http://127.0.0.1:9/prod")
    probe_regions()
    probe = HealthProbe.objects.get(region__code="eu-west-1")
    assert not probe.ok and probe.detail.startswith("no answer")


def test_in_the_sandbox_the_probe_reads_the_injected_faults_and_says_so(
        application, admin_user, settings, client):
    from sandbox import services as sandbox

    settings.SANDBOX = True
    add_region(application, "eu-west-1", Actor(admin_user, "cli"))
    application.regions.update(state=RegionState.ACTIVE)
    region = application.regions.get(code="eu-west-1")
    sandbox.inject(region, "outage", Actor(admin_user, "cli"))
    probe_regions()
    probe = HealthProbe.objects.get(region=region)
    assert probe.simulated and not probe.ok and probe.detail == "sandbox: outage injected"

    client.force_login(admin_user)
    page = client.get("/watch/orders/tiles/").content.decode()
    assert "Meridian's probe (simulated: sandbox faults)" in page
    assert "failing since" in page and 'data-probe="failing"' in page


def test_the_tile_shows_the_probe_as_a_second_opinion(serving, client, admin_user):
    probe_regions()
    client.force_login(admin_user)
    page = client.get("/watch/orders/tiles/").content.decode()
    assert "Meridian's probe" in page and "answers in" in page


def test_a_probe_failing_twice_opens_an_incident_while_route_53_still_says_healthy(
        serving, endpoint, admin_user):
    from alerts.evaluate import evaluate
    from alerts.models import Incident
    from tests.alerts.conftest import poll_everything_fine

    serving.regions.update(health_check_id="hc")
    poll_everything_fine(serving)
    endpoint.status = 500
    probe_regions()
    evaluate()
    assert not Incident.objects.exists()
    probe_regions()
    evaluate()
    incident = Incident.objects.get(subject="eu-west-1")
    assert incident.status == "open"
    assert "health endpoint failed Meridian's last 2 probes: HTTP 500" in incident.summary
    assert incident.started_at <= timezone.now()


def test_only_regions_with_an_api_url_are_probed_outside_the_sandbox(application, settings):
    settings.SANDBOX = False
    assert probes.probe_all() == {"probed": 0, "failing": 0}


def test_a_probe_round_does_not_count_as_a_second_poll_of_route_53(serving, admin_user):
    from alerts.evaluate import evaluate
    from alerts.models import Incident
    from tests.alerts.conftest import poll_everything_fine, poll_health

    serving.regions.update(health_check_id="hc")
    poll_everything_fine(serving)
    poll_health(serving, {"eu-west-1": False})
    probe_regions()
    evaluate()
    probe_regions()
    evaluate()
    assert Incident.objects.get(subject="eu-west-1").status == "pending"
