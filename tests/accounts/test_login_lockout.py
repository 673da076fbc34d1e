"""Logins are throttled: after twelve wrong passwords a user name, or an address, is locked."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEntry

PASSWORD = "pw-vera-123!"


def log_in(client: Client, username: str, password: str, address: str = "198.51.100.7"):
    return client.post("/login/", {"username": username, "password": password},
                       REMOTE_ADDR=address)


def fail(client: Client, username: str, times: int, address: str = "198.51.100.7") -> list[int]:
    return [log_in(client, username, "wrong", address).status_code for _ in range(times)]


def test_the_right_password_still_works_after_eleven_wrong_ones(viewer):
    client = Client()
    assert fail(client, "vera", 11) == [200] * 11
    response = log_in(client, "vera", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_after_twelve_wrong_passwords_the_right_one_is_refused(viewer):
    client = Client()
    assert fail(client, "vera", 12) == [200] * 11 + [429]
    response = log_in(client, "vera", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_login_page_says_the_account_is_locked_and_for_how_long(viewer):
    client = Client()
    fail(client, "vera", 12)
    response = log_in(client, "vera", PASSWORD)
    assert response["Retry-After"] == str(15 * 60)
    page = response.content.decode()
    assert "Too many failed logins for this account or from this address" in page
    assert "locked for 15 minutes" in page
    assert 'value="vera"' in page


def test_the_user_name_is_locked_from_every_address(viewer):
    fail(Client(), "vera", 12, address="198.51.100.7")
    response = log_in(Client(), "vera", PASSWORD, address="203.0.113.9")
    assert response.status_code == 429


def test_an_address_trying_many_user_names_is_locked_for_all_of_them(viewer, operator):
    client = Client()
    for number in range(12):
        log_in(client, f"guess{number}", "wrong")
    assert log_in(client, "vera", PASSWORD).status_code == 429
    assert log_in(Client(), "vera", PASSWORD, address="203.0.113.9").status_code == 302


def test_the_lock_ends_after_the_cool_off(viewer):
    client = Client()
    fail(client, "vera", 12)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert log_in(client, "vera", PASSWORD).status_code == 302


def test_a_lockout_is_one_line_of_the_audit_trail_with_the_address(viewer, admin_user):
    client = Client()
    fail(client, "vera", 12)
    for _ in range(3):
        log_in(client, "vera", PASSWORD)
    [entry] = AuditEntry.objects.filter(action="login.lockout")
    assert (entry.source, entry.actor_name, entry.object_repr, entry.remote_addr) == (
        "web", "anonymous", "vera", "198.51.100.7")
    client.force_login(admin_user)
    page = client.get("/audit/").content.decode()
    assert "login.lockout" in page


def test_unlock_lets_the_user_in_at_once_and_is_audited(viewer, capsys):
    client = Client()
    fail(client, "vera", 12)
    call_command("unlock", "vera")
    assert "Unlocked vera" in capsys.readouterr().out
    assert log_in(client, "vera", PASSWORD).status_code == 302
    [entry] = AuditEntry.objects.filter(action="login.unlock")
    assert (entry.source, entry.object_repr) == ("cli", "vera")


def test_unlock_by_address_lifts_a_lock_on_the_address(viewer):
    client = Client()
    for number in range(12):
        log_in(client, f"guess{number}", "wrong")
    call_command("unlock", "--address", "198.51.100.7")
    assert log_in(client, "vera", PASSWORD).status_code == 302


def test_a_second_lockout_after_an_unlock_is_audited_again(viewer):
    client = Client()
    fail(client, "vera", 12)
    call_command("unlock", "vera")
    fail(client, "vera", 12)
    assert AuditEntry.objects.filter(action="login.lockout").count() == 2


def test_unlock_without_a_name_or_an_address_says_what_to_give(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Name a user, an --address, or both."):
        call_command("unlock")


def test_an_admin_sees_lockouts_and_unlocks_them_in_the_admin(viewer, admin_user):
    fail(Client(), "vera", 12)
    admin_user.is_staff = True
    admin_user.save()
    client = Client()
    client.force_login(admin_user)
    page = client.get("/admin/axes/accessattempt/")
    assert page.status_code == 200
    assert "vera" in page.content.decode()
    ids = [str(pk) for pk in AccessAttempt.objects.values_list("pk", flat=True)]
    response = client.post("/admin/axes/accessattempt/",
                           {"action": "unlock", "_selected_action": ids})
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    [entry] = AuditEntry.objects.filter(action="login.unlock")
    assert (entry.source, entry.actor_name) == ("admin", "ada")
    assert log_in(Client(), "vera", PASSWORD).status_code == 302


def test_the_audit_page_tells_admins_who_is_locked_out_now(viewer, admin_user, operator):
    fail(Client(), "vera", 12)
    client = Client()
    client.force_login(admin_user)
    page = client.get("/audit/").content.decode()
    assert "Locked out now:" in page and "vera from 198.51.100.7" in page
    client.force_login(operator)
    assert "Locked out now:" not in client.get("/audit/").content.decode()


def test_an_expired_lockout_is_not_shown_as_current(viewer, admin_user):
    fail(Client(), "vera", 12)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    client = Client()
    client.force_login(admin_user)
    assert "Locked out now:" not in client.get("/audit/").content.decode()
