import pytest
from django.urls import reverse

from accounts.models import AuditEntry
from regions.models import Application, Region, RegionRole, RegionState
from tests.conftest import APP_DATA

FORM = {**APP_DATA, "stage": "prod", "source": "reference", "health_check_interval": "30",
        "failure_threshold": "3"}


def test_an_admin_creates_an_application_with_its_main_region(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("regions:application_create"), FORM, follow=True)
    assert response.status_code == 200
    assert b"created with its main region us-east-1" in response.content
    application = Application.objects.get(slug="orders")
    main = application.regions.get()
    assert (main.code, main.role, main.state) == ("us-east-1", RegionRole.MAIN, RegionState.PLANNED)
    entry = AuditEntry.objects.get(action="application.create")
    assert (entry.actor_name, entry.source, entry.remote_addr) == ("ada", "web", "127.0.0.1")
    assert entry.after["domain_name"] == "api.example.com"


def test_each_bad_field_shows_its_own_error_and_nothing_is_written(client, admin_user):
    client.force_login(admin_user)
    bad = {**FORM, "domain_name": "not a domain", "hosted_zone_id": "zabc",
           "account_id": "12", "table_name": "x", "slug": "Bad Slug",
           "role_arn": "arn:aws:iam::1:role/x"}
    response = client.post(reverse("regions:application_create"), bad)
    assert response.status_code == 400
    html = response.content.decode()
    for field in ("domain_name", "hosted_zone_id", "account_id", "table_name", "slug", "role_arn"):
        assert f'id="id_{field}_error"' in html, field
    assert Application.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_a_10_kb_value_is_a_form_error_not_a_crash(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("regions:application_create"), {**FORM, "name": "x" * 10240})
    assert response.status_code == 400
    assert 'id="id_name_error"' in response.content.decode()


def test_blur_validation_returns_the_one_field_with_its_error(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("regions:application_validate"),
        {**FORM, "hosted_zone_id": "nope", "_field": "hosted_zone_id"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="field-hosted_zone_id"' in html
    assert "hosted zone id is Z followed by" in html
    assert 'id="field-domain_name"' not in html


def test_blur_validation_of_a_good_field_shows_no_error(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("regions:application_validate"), {**FORM, "_field": "domain_name"}
    )
    assert "errorlist" not in response.content.decode()


@pytest.mark.parametrize("code", ["US-EAST-1", "us-east-10", "eu-west-1 x", "mars-1"])
def test_adding_a_bad_region_code_shows_the_error_next_to_the_field(
    client, operator, application, code
):
    client.force_login(operator)
    response = client.post(reverse("regions:region_add", args=["orders"]), {"code": code})
    assert response.status_code == 400
    assert 'id="id_code_error"' in response.content.decode()
    assert application.regions.count() == 1


def test_an_operator_adds_three_regions_and_each_is_audited(client, operator, application):
    client.force_login(operator)
    for code in ("eu-west-1", "ap-southeast-2", "us-west-2"):
        response = client.post(reverse("regions:region_add", args=["orders"]), {"code": code})
        assert response.status_code == 302
    codes = sorted(application.regions.values_list("code", flat=True))
    assert codes == ["ap-southeast-2", "eu-west-1", "us-east-1", "us-west-2"]
    assert set(application.regions.exclude(code="us-east-1").values_list("role", flat=True)) == {
        RegionRole.REPLICA
    }
    assert AuditEntry.objects.filter(action="region.add", actor_name="otto", source="web").count() == 3
    page = client.get(reverse("front:application_detail", args=["orders"])).content.decode()
    assert "ap-southeast-2" in page and "Replica" in page


def test_adding_a_region_twice_is_refused_with_a_message(client, operator, application):
    client.force_login(operator)
    url = reverse("regions:region_add", args=["orders"])
    client.post(url, {"code": "eu-west-1"})
    response = client.post(url, {"code": "eu-west-1"})
    assert response.status_code == 400
    assert "already in the inventory" in response.content.decode()


def test_the_main_region_cannot_be_removed_while_replicas_exist(client, operator, application):
    client.force_login(operator)
    client.post(reverse("regions:region_add", args=["orders"]), {"code": "eu-west-1"})
    response = client.post(
        reverse("regions:region_remove", args=["orders", "us-east-1"]), follow=True
    )
    assert "cannot be removed while replicas exist (eu-west-1)" in response.content.decode()
    assert application.regions.filter(code="us-east-1").exists()


def test_a_deployed_region_is_removed_only_once_its_code_is_typed_again(client, operator,
                                                                      application):
    client.force_login(operator)
    client.post(reverse("regions:region_add", args=["orders"]), {"code": "eu-west-1"})
    Region.objects.filter(code="eu-west-1").update(state=RegionState.ACTIVE)
    url = reverse("regions:region_remove", args=["orders", "eu-west-1"])
    page = client.get(url).content.decode()
    assert "the data in eu-west-1 is deleted" in page and 'name="confirm"' in page

    refused = client.post(url, {"confirm": "eu-west"})
    assert refused.status_code == 400 and "Type eu-west-1 to confirm." in refused.content.decode()
    assert Region.objects.get(code="eu-west-1").state == RegionState.ACTIVE

    client.post(url, {"confirm": "eu-west-1"})
    assert Region.objects.get(code="eu-west-1").state == RegionState.REMOVING
    entry = AuditEntry.objects.filter(action="region.remove").get()
    assert entry.before["state"] == "active" and entry.after["state"] == "removing"


def test_the_audit_trail_filters_by_actor_action_and_application(
    client, viewer, operator, application
):
    client.force_login(operator)
    client.post(reverse("regions:region_add", args=["orders"]), {"code": "eu-west-1"})
    client.force_login(viewer)
    url = reverse("accounts:audit_list")
    page = client.get(url, {"actor": "otto", "action": "region.add"}).content.decode()
    assert "orders/eu-west-1" in page
    assert "orders/eu-west-1" in page
    assert ">application.create</td>" not in page
    page = client.get(url, {"application": "nope"}).content.decode()
    assert "No entries match" in page
    response = client.get(url, {"since": "2030-01-02", "until": "2030-01-01"})
    assert response.status_code == 200
    assert "start date is after the end date" in response.content.decode()


def test_tokens_are_shown_once_and_can_be_revoked(client, operator):
    from accounts.models import ApiToken

    client.force_login(operator)
    response = client.post(reverse("accounts:token_create"), {"name": "ci"})
    html = response.content.decode()
    token = ApiToken.objects.get(user=operator)
    assert token.key_prefix in html and 'id="new-token"' in html
    assert token.key_hash not in html
    client.post(reverse("accounts:token_revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert list(AuditEntry.objects.values_list("action", flat=True).order_by("id")) == [
        "token.create", "token.revoke"
    ]
    assert "Copy it now" not in client.get(reverse("accounts:profile")).content.decode()


def test_deleting_an_application_keeps_its_slug_in_the_audit_trail(client, admin_user, application):
    client.force_login(admin_user)
    client.post(reverse("regions:application_delete", args=["orders"]))
    entry = AuditEntry.objects.get(action="application.delete")
    assert entry.application_slug == "orders" and entry.before["slug"] == "orders"


def test_the_services_refuse_null_characters_that_postgresql_cannot_store(admin_user):
    from django.core.exceptions import ValidationError

    from accounts.audit import Actor
    from regions.services import create_application

    with pytest.raises(ValidationError) as caught:
        create_application({**APP_DATA, "name": "bad\x00name"}, Actor(admin_user, "cli"))
    assert "name" in caught.value.message_dict
    assert not Application.objects.exists()


def test_the_audit_shows_only_values_that_changed():
    entry = AuditEntry(before=None, after={"code": "eu-west-1", "api_url": "", "state": "planned"})
    assert entry.changes() == [("code", None, "eu-west-1"), ("state", None, "planned")]


def test_remove_is_not_offered_on_the_main_region(client, operator, application):
    client.force_login(operator)
    client.post(reverse("regions:region_add", args=["orders"]), {"code": "eu-west-1"})
    overview = client.get(reverse("front:application_detail", args=["orders"])).content.decode()
    assert reverse("regions:region_remove", args=["orders", "eu-west-1"]) in overview
    assert reverse("regions:region_remove", args=["orders", "us-east-1"]) not in overview
    page = client.get(reverse("front:region_detail", args=["orders", "us-east-1"])).content.decode()
    assert "Remove region" not in page
