from accounts.models import AuditEntry
from regions.models import Application
from tests.conftest import APP_DATA


def _admin_client(client, admin_user):
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    return client


def test_creating_an_application_in_the_django_admin_is_validated_and_audited(client, admin_user):
    client = _admin_client(client, admin_user)
    form = {**APP_DATA, "stage": "prod", "source": "reference", "health_check_interval": "30",
            "failure_threshold": "3", "regions-TOTAL_FORMS": "0", "regions-INITIAL_FORMS": "0"}
    response = client.post("/admin/regions/application/add/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    application = Application.objects.get(slug="orders")
    assert list(application.regions.values_list("code", "role")) == [("us-east-1", "main")]
    entry = AuditEntry.objects.get(action="application.create")
    assert (entry.source, entry.actor_name) == ("admin", "ada")


def test_a_bad_value_in_the_django_admin_is_a_form_error(client, admin_user):
    client = _admin_client(client, admin_user)
    form = {**APP_DATA, "account_id": "12", "stage": "prod", "source": "reference",
            "health_check_interval": "30", "failure_threshold": "3",
            "regions-TOTAL_FORMS": "0", "regions-INITIAL_FORMS": "0"}
    response = client.post("/admin/regions/application/add/", form)
    assert response.status_code == 200
    assert "An AWS account id is exactly 12 digits." in response.content.decode()
    assert not Application.objects.exists() and not AuditEntry.objects.exists()


def test_editing_in_the_django_admin_records_before_and_after(client, admin_user, application):
    client = _admin_client(client, admin_user)
    form = {**APP_DATA, "name": "Orders v2", "stage": "prod", "source": "reference",
            "health_check_interval": "30", "failure_threshold": "3",
            "regions-TOTAL_FORMS": "1", "regions-INITIAL_FORMS": "1",
            "regions-0-id": str(application.regions.get().pk), "regions-0-application": str(application.pk)}
    response = client.post(f"/admin/regions/application/{application.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = AuditEntry.objects.get(action="application.update")
    assert entry.source == "admin"
    assert entry.before == {"name": "Orders API"} and entry.after == {"name": "Orders v2"}
