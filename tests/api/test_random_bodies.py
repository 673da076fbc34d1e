"""Random JSON bodies never break the API: each is created (201) or refused (400) cleanly."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regions.models import APPLICATION_FIELDS, Application, Region
from regions.validators import known_regions

from .conftest import VALID_APP, counts

FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

scalars = (st.none() | st.booleans() | st.integers() | st.integers(-2**70, 2**70)
           | st.floats(allow_nan=False) | st.text(max_size=300)
           | st.text(max_size=20).map(lambda s: s * 600))
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=8,
)
slugs = st.from_regex(r"[a-z][a-z0-9-]{0,30}[a-z0-9]", fullmatch=True)
plausible = {
    "main_region": st.sampled_from(sorted(known_regions())),
    "source": st.sampled_from(["reference", "sandbox", "command", "Reference", ""]),
    "health_check_interval": st.sampled_from([10, 30, 20, 0, -30]),
    "failure_threshold": st.integers(-2, 12),
    "role_arn": st.just("arn:aws:iam::123456789012:role/deployer") | st.text(max_size=40),
}
field_values = st.one_of(json_values, *plausible.values())
app_keys = st.sampled_from(APPLICATION_FIELDS) | st.text(max_size=12)


def near_valid_app() -> st.SearchStrategy:
    overrides = st.dictionaries(app_keys, field_values, max_size=3)
    return st.builds(lambda slug, more: {**VALID_APP, "slug": slug, **more}, slugs, overrides)


app_bodies = st.one_of(
    json_values,
    st.dictionaries(app_keys, field_values, max_size=16),
    near_valid_app(),
    near_valid_app(),
)
region_bodies = st.one_of(
    json_values,
    st.fixed_dictionaries({"code": st.sampled_from(sorted(known_regions()))}),
    st.fixed_dictionaries({"code": field_values}),
    st.dictionaries(st.sampled_from(["code", "role", "state"]) | st.text(max_size=8),
                    field_values, max_size=3),
)


def as_bytes(body) -> bytes:
    if isinstance(body, bytes):
        return body
    return json.dumps(body).encode()


def check(response, before: dict, created: int, what: str) -> None:
    assert response.status_code in (created, 400), response.content
    after = counts()
    if response.status_code == 400:
        assert after == before
        errors = response.json()["errors"]
        assert errors and all(isinstance(m, list) and m for m in errors.values())
    else:
        assert after[what] > before[what]


def test_random_bodies_to_create_an_application_give_201_or_400(admin_api, application):
    @FUZZ
    @given(body=app_bodies | st.binary(max_size=200))
    def run(body):
        before = counts()
        response = admin_api.post("/api/v1/applications", raw=as_bytes(body))
        check(response, before, 201, "applications")

    run()
    # Some bodies must have been good, or the test only ever saw refusals.
    assert Application.objects.count() > 1


def test_random_bodies_to_add_a_region_give_201_or_400(api_as, application):
    operator = api_as("operator")

    @FUZZ
    @given(body=region_bodies | st.binary(max_size=200))
    def run(body):
        before = counts()
        response = operator.post("/api/v1/applications/orders/regions", raw=as_bytes(body))
        check(response, before, 201, "regions")

    run()
    assert Region.objects.filter(application=application).count() > 1


def test_random_bodies_to_change_an_application_give_200_or_400(admin_api, application):
    @FUZZ
    @given(body=st.dictionaries(app_keys, field_values, max_size=4) | json_values)
    def run(body):
        before = counts()
        response = admin_api.patch("/api/v1/applications/orders", raw=as_bytes(body))
        assert response.status_code in (200, 400), response.content
        if response.status_code == 400:
            assert counts() == before

    run()
