"""API tokens in the Django admin: revoked through the audited path, never un-revoked."""

import pytest

from accounts.models import ApiToken, AuditEntry


@pytest.fixture
def token(viewer):
    token, _key = ApiToken.issue(viewer, "ci")
    return token


def test_revoking_tokens_in_the_admin_is_audited(staff, token):
    response = staff.post("/admin/accounts/apitoken/",
                          {"action": "revoke_tokens", "_selected_action": [str(token.pk)]})
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    [entry] = AuditEntry.objects.filter(action="token.revoke")
    assert (entry.source, entry.actor_name, entry.before["user"]) == ("admin", "ada", "vera")


def test_revoking_an_already_revoked_token_writes_nothing(staff, token):
    for _ in range(2):
        staff.post("/admin/accounts/apitoken/",
                   {"action": "revoke_tokens", "_selected_action": [str(token.pk)]})
    assert AuditEntry.objects.filter(action="token.revoke").count() == 1


def test_the_admin_cannot_unrevoke_or_edit_a_token(staff, token):
    staff.post("/admin/accounts/apitoken/",
               {"action": "revoke_tokens", "_selected_action": [str(token.pk)]})
    page = staff.get(f"/admin/accounts/apitoken/{token.pk}/change/")
    assert page.status_code == 200
    assert 'name="revoked_at' not in page.content.decode()
    response = staff.post(f"/admin/accounts/apitoken/{token.pk}/change/",
                          {"revoked_at_0": "", "revoked_at_1": "", "name": "x"})
    assert response.status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is not None and token.name == "ci"


def test_the_admin_cannot_delete_a_token(staff, token):
    assert staff.get(f"/admin/accounts/apitoken/{token.pk}/delete/").status_code == 403
    response = staff.post("/admin/accounts/apitoken/",
                          {"action": "delete_selected", "_selected_action": [str(token.pk)]})
    assert ApiToken.objects.filter(pk=token.pk).exists()
    assert response.status_code in (200, 302)
