"""API tokens: the create_api_token command, bearer authentication, revocation."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken

APPS = "/api/v1/applications"


def get(key: str, url: str = APPS):
    return Client().get(url, headers={"Authorization": f"Bearer {key}"})


def create_token(*args) -> str:
    out, err = StringIO(), StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=err)
    assert "shown once" in err.getvalue()
    return out.getvalue().strip()


def test_the_command_prints_a_token_that_works(viewer, application):
    key = create_token("vera", "--name", "ci")
    assert key.startswith("mrd_")
    token = ApiToken.objects.get()
    assert (token.user, token.name, token.key_prefix) == (viewer, "ci", key[:12])
    assert key not in token.key_hash
    response = get(key)
    assert response.status_code == 200
    assert [app["slug"] for app in response.json()] == ["orders"]


def test_the_command_names_a_token_after_its_user_by_default(operator):
    create_token("otto")
    assert ApiToken.objects.get().name == "token for otto"


def test_the_command_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="There is no user 'ghost'"):
        call_command("create_api_token", "ghost", stdout=StringIO(), stderr=StringIO())
    assert not ApiToken.objects.exists()


def test_the_command_exits_non_zero_for_an_unknown_user(db):
    from django.core.management import ManagementUtility

    utility = ManagementUtility(["manage.py", "create_api_token", "ghost"])
    with pytest.raises(SystemExit) as exit_info:
        utility.execute()
    assert exit_info.value.code != 0


def test_the_command_refuses_a_name_longer_than_the_model_allows(viewer):
    with pytest.raises(CommandError, match="100 characters"):
        call_command("create_api_token", "vera", "--name", "x" * 101, stdout=StringIO(),
                     stderr=StringIO())


def test_a_revoked_token_is_refused_with_401(viewer, application):
    key = create_token("vera")
    assert get(key).status_code == 200
    ApiToken.objects.update(revoked_at=timezone.now())
    response = get(key)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json() == {"errors": {"__all__": ["The token is unknown or revoked."]}}


@pytest.mark.parametrize("key", ["mrd_", "mrd_wrong", "not-even-a-meridian-token", "Bearer"])
def test_an_unknown_token_is_refused_with_401(viewer, application, key):
    create_token("vera")
    assert get(key).status_code == 401


def test_a_token_records_when_it_was_last_used_at_most_once_a_minute(viewer, application):
    key = create_token("vera")
    assert ApiToken.objects.get().last_used_at is None
    get(key)
    first = ApiToken.objects.get().last_used_at
    assert first is not None
    get(key)
    assert ApiToken.objects.get().last_used_at == first
    earlier = timezone.now() - timedelta(minutes=2)
    ApiToken.objects.update(last_used_at=earlier)
    get(key)
    assert ApiToken.objects.get().last_used_at > earlier + timedelta(minutes=1)
