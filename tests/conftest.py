import pytest
from django.contrib.auth.models import Group, User

from accounts.audit import Actor
from accounts.roles import ensure_role_groups
from regions.services import create_application

pytest_plugins = ["tests.fixtures.moto", "tests.fixtures.celery"]


def make_user(username: str, role: str | None) -> User:
    user = User.objects.create_user(username=username, password="pw-" + username + "-123!")
    # A transactional test before this one may have flushed the groups the migrations made.
    ensure_role_groups()
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def viewer(db):
    return make_user("vera", "viewer")


@pytest.fixture
def operator(db):
    return make_user("otto", "operator")


@pytest.fixture
def admin_user(db):
    return make_user("ada", "admin")


@pytest.fixture
def nobody(db):
    return make_user("nils", None)


APP_DATA = {
    "slug": "orders",
    "name": "Orders API",
    "domain_name": "api.example.com",
    "hosted_zone_id": "Z0123456789ABCDEFGHIJ",
    "table_name": "orders",
    "main_region": "us-east-1",
    "account_id": "123456789012",
}


@pytest.fixture
def application(admin_user):
    return create_application(dict(APP_DATA), Actor(admin_user, "cli"))


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def staff(admin_user):
    """A test client logged in to the Django admin as an admin."""
    from django.test import Client

    admin_user.is_staff = True
    admin_user.save()
    client = Client()
    client.force_login(admin_user)
    return client
