import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import AuditEntry
from regions.models import Region


def test_it_adds_lists_and_removes_regions_and_audits_each(application, operator, capsys):
    call_command("regions", "add", "orders", "eu-west-1", "--user", "otto")
    call_command("regions", "list", "orders", "--json")
    rows = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert [(r["code"], r["role"]) for r in rows] == [("us-east-1", "main"), ("eu-west-1", "replica")]
    call_command("regions", "remove", "orders", "eu-west-1", "--user", "otto")
    assert not Region.objects.filter(code="eu-west-1").exists()
    sources = set(AuditEntry.objects.filter(action__startswith="region.", actor_name="otto")
                  .values_list("source", flat=True))
    assert sources == {"cli"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["add", "nope", "eu-west-1", "--user", "otto"], "No application with slug 'nope'"),
        (["add", "orders", "US-EAST-1", "--user", "otto"], "is not an AWS region"),
        (["add", "orders", "us-east-1", "--user", "otto"], "already in the inventory"),
        (["add", "orders", "eu-west-1", "--user", "vera"], "does not have the operator role"),
        (["add", "orders", "eu-west-1", "--user", "ghost"], "No user named 'ghost'"),
        (["remove", "orders", "eu-west-3", "--user", "otto"], "is not in the inventory"),
    ],
)
def test_bad_input_is_a_clear_message_and_nothing_changes(
    application, operator, viewer, argv, message
):
    before = Region.objects.count(), AuditEntry.objects.count()
    with pytest.raises(CommandError, match=message):
        call_command("regions", *argv)
    assert (Region.objects.count(), AuditEntry.objects.count()) == before


@pytest.mark.django_db(transaction=True)
def test_the_command_line_exits_non_zero_without_a_traceback(application, operator):
    import subprocess
    import sys

    from tests.fixtures.celery import child_env

    proc = subprocess.run(
        [sys.executable, "manage.py", "regions", "add", "orders", "mars-1", "--user", "otto"],
        capture_output=True, text=True, env=child_env(), timeout=60,
    )
    assert proc.returncode != 0
    assert "is not an AWS region" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_removing_the_main_region_with_replicas_is_refused(application, operator):
    call_command("regions", "add", "orders", "eu-west-1", "--user", "otto")
    with pytest.raises(CommandError, match="cannot be removed while replicas exist"):
        call_command("regions", "remove", "orders", "us-east-1", "--user", "otto")


def test_set_role_gives_one_role_and_admin_gets_the_django_admin(nobody):
    call_command("set_role", "nils", "admin")
    nobody.refresh_from_db()
    assert list(nobody.groups.values_list("name", flat=True)) == ["admin"]
    assert nobody.is_staff
    call_command("set_role", "nils", "viewer")
    nobody.refresh_from_db()
    assert list(nobody.groups.values_list("name", flat=True)) == ["viewer"]
    assert not nobody.is_staff
