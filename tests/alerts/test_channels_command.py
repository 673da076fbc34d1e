"""`manage.py channels`: the same channels, for scripts."""

import pytest
from django.core.management import CommandError, call_command

from accounts.models import AuditEntry
from alerts.models import Channel, Delivery

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("channels", *args, stdout=out)
    return out.getvalue()


def test_an_admin_adds_lists_tests_and_removes_a_channel(admin_user, application, receiver):
    added = run("add", "pager", receiver.url(), "--application", "orders",
                "--event", "region_unhealthy", "--user", "ada")
    assert added.strip() == f"Added channel pager (json://127.0.0.1:{receiver.port}/****)."
    assert "pager: json://127.0.0.1" in run("list")
    assert "/hook" not in run("list")

    assert run("test", "pager", "--user", "ada").startswith("Test message sent to pager")
    assert receiver.messages()[0]["title"] == "[Meridian] Test message"
    assert Delivery.objects.get().status == "sent"

    assert run("remove", "pager", "--user", "ada").strip() == "Removed channel pager."
    assert not Channel.objects.exists()
    assert [e.action for e in AuditEntry.objects.filter(action__startswith="channel.")
            .order_by("id")] == ["channel.create", "channel.test", "channel.delete"]


def test_a_test_to_a_dead_receiver_fails_with_the_reason(admin_user, dead_url):
    run("add", "dead", dead_url, "--user", "ada")
    with pytest.raises(CommandError, match="The test message to dead failed: A Connection error"):
        run("test", "dead", "--user", "ada")
    assert Delivery.objects.get().status == "failed"


def test_changes_need_an_admin(operator):
    with pytest.raises(CommandError, match="not a user with the admin role"):
        run("add", "x", "json://127.0.0.1:9/x", "--user", "otto")
