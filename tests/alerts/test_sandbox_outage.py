"""The whole path in the sandbox: an injected outage, the emitter and poll cycle against moto
server on a real worker, the evaluation that follows each cycle, and a message on loopback."""

import time

import pytest

from accounts.audit import Actor
from alerts.models import Incident
from sandbox import services as sandbox
from tests.watch.conftest import create_table, deploy_regions

from .conftest import channel

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_an_outage_injected_in_the_sandbox_reaches_the_receiver_after_two_poll_cycles(
        aws, settings, application, admin_user, receiver, celery_worker_factory):
    settings.SANDBOX = True
    settings.AWS_MAX_ATTEMPTS = 1
    deploy_regions(application, ["us-east-1", "eu-west-1"], admin_user)
    create_table(application)
    channel(admin_user, receiver.url())
    celery_worker_factory("polling,default", SANDBOX=1, AWS_ACCESS_KEY_ID="testing",
                          AWS_SECRET_ACCESS_KEY="testing", AWS_MAX_ATTEMPTS=1)

    region = sandbox.find_region("eu-west-1", "orders")
    sandbox.inject(region, "outage", Actor(admin_user, "cli"))  # emits and polls at once
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not Incident.objects.exists():
        time.sleep(0.2)
    assert Incident.objects.get().status == "pending"
    sandbox.refresh_soon()  # the next poll cycle

    [message] = receiver.wait_for(1)
    assert message["type"] == "failure"
    assert "Region unhealthy: eu-west-1" in message["title"]
    assert "eu-west-1 is unhealthy: its Route 53 health check fails" in message["message"]
