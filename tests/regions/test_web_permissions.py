"""The permission matrix of the web pages: anonymous → login, no role / viewer → 403 on
mutations, operator and admin allowed as their role says."""

import pytest
from django.urls import reverse

from tests.conftest import APP_DATA

NEW_APP = {**APP_DATA, "slug": "billing", "table_name": "billing", "stage": "prod",
           "source": "reference", "health_check_interval": "30", "failure_threshold": "3"}

READ_PAGES = [
    ("regions:application_list", []),
    ("front:application_detail", ["orders"]),
    ("front:region_detail", ["orders", "us-east-1"]),
    ("accounts:audit_list", []),
]
ADMIN_ONLY_GETS = [("regions:application_create", []), ("regions:application_edit", ["orders"])]
OPERATOR_GETS = [("regions:region_add", ["orders"])]


@pytest.mark.parametrize(("name", "args"), READ_PAGES + ADMIN_ONLY_GETS + OPERATOR_GETS)
def test_anonymous_requests_are_sent_to_the_login_page(client, application, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_the_liveness_probe_needs_no_login(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize(("name", "args"), READ_PAGES)
def test_a_user_without_a_role_sees_nothing(client, nobody, application, name, args):
    client.force_login(nobody)
    assert client.get(reverse(name, args=args)).status_code == 403


@pytest.mark.parametrize(("name", "args"), READ_PAGES)
def test_a_viewer_reads_every_page(client, viewer, application, name, args):
    client.force_login(viewer)
    assert client.get(reverse(name, args=args)).status_code == 200


@pytest.mark.parametrize(("name", "args"), ADMIN_ONLY_GETS + OPERATOR_GETS)
def test_a_viewer_gets_403_on_every_form(client, viewer, application, name, args):
    client.force_login(viewer)
    assert client.get(reverse(name, args=args)).status_code == 403


def _mutations():
    return [
        ("regions:application_create", [], NEW_APP, "admin"),
        ("regions:application_edit", ["orders"], {**APP_DATA, "name": "Renamed",
                                                   "stage": "prod", "source": "reference",
                                                   "health_check_interval": "30",
                                                   "failure_threshold": "3"}, "admin"),
        ("regions:application_delete", ["orders"], {}, "admin"),
        ("regions:region_add", ["orders"], {"code": "eu-west-1"}, "operator"),
        ("regions:region_remove", ["orders", "us-east-1"], {}, "operator"),
    ]


@pytest.mark.parametrize(("name", "args", "data", "needed"), _mutations())
def test_a_viewer_gets_403_on_every_mutation_and_nothing_changes(
    client, viewer, application, name, args, data, needed
):
    from accounts.models import AuditEntry
    from regions.models import Application, Region

    before = (Application.objects.count(), Region.objects.count(), AuditEntry.objects.count())
    client.force_login(viewer)
    assert client.post(reverse(name, args=args), data).status_code == 403
    after = (Application.objects.count(), Region.objects.count(), AuditEntry.objects.count())
    assert before == after


@pytest.mark.parametrize(("name", "args", "data", "needed"), _mutations())
def test_an_operator_may_do_only_operator_mutations(
    client, operator, application, name, args, data, needed
):
    client.force_login(operator)
    response = client.post(reverse(name, args=args), data)
    if needed == "operator":
        assert response.status_code == 302
    else:
        assert response.status_code == 403


@pytest.mark.parametrize(("name", "args", "data", "needed"), _mutations())
def test_an_admin_may_do_every_mutation(client, admin_user, application, name, args, data, needed):
    client.force_login(admin_user)
    response = client.post(reverse(name, args=args), data)
    assert response.status_code == 302, response.content.decode()[:2000]


def test_the_django_admin_is_for_admins_only(client, operator, admin_user, application):
    client.force_login(operator)
    assert client.get("/admin/regions/application/").status_code == 302
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    assert client.get("/admin/regions/application/").status_code == 200
