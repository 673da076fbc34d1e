import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from regions import validators

ALL = [
    validators.validate_region_code,
    validators.validate_domain_name,
    validators.validate_hosted_zone_id,
    validators.validate_account_id,
    validators.validate_table_name,
    validators.validate_role_arn,
    validators.validate_slug,
    validators.validate_stage,
]


@pytest.mark.parametrize("validator", ALL, ids=lambda v: v.__name__)
@given(value=st.one_of(st.text(max_size=300), st.none(), st.integers(), st.binary(max_size=20)))
def test_random_input_never_raises_anything_but_a_validation_error(validator, value):
    try:
        validator(value)
    except ValidationError:
        pass


@pytest.mark.parametrize("code", sorted(validators.known_regions()))
def test_every_region_botocore_knows_passes(code):
    validators.validate_region_code(code)


@pytest.mark.parametrize(
    "code", ["US-EAST-1", "us-east-10", "eu-west-1 ", " eu-west-1", "mars-1", "", "us-gov-west-1",
             "cn-north-1", "eu-west", "local"],
)
def test_look_alike_region_codes_fail(code):
    with pytest.raises(ValidationError):
        validators.validate_region_code(code)


def test_known_regions_come_from_botocore_for_all_three_services():
    import botocore.session

    session = botocore.session.get_session()
    for service in ("dynamodb", "apigateway", "cloudformation"):
        assert validators.known_regions() <= set(
            session.get_available_regions(service, partition_name="aws")
        )
    assert {"us-east-1", "eu-west-1", "ap-southeast-2"} <= validators.known_regions()


@pytest.mark.parametrize("name", ["api.example.com", "a.b", "x" * 63 + ".com", "api.example.com."])
def test_good_domain_names_pass(name):
    validators.validate_domain_name(name)


@pytest.mark.parametrize(
    "name",
    ["example", "-api.example.com", "api-.example.com", "api..example.com", "x" * 64 + ".com",
     ".".join(["abcdefghi"] * 26), "api example.com", "api_x.example.com"],
)
def test_bad_domain_names_fail(name):
    with pytest.raises(ValidationError):
        validators.validate_domain_name(name)


@pytest.mark.parametrize(
    ("validator", "good", "bad"),
    [
        (validators.validate_hosted_zone_id, "Z0123456789ABCDEFGHIJ", "z0123abc"),
        (validators.validate_account_id, "123456789012", "12345678901"),
        (validators.validate_table_name, "orders.v1-x_y", "ab"),
        (validators.validate_role_arn, "arn:aws:iam::123456789012:role/Deploy",
         "arn:aws:iam::12345:role/Deploy"),
        (validators.validate_slug, "orders-api", "Orders"),
        (validators.validate_stage, "prod", "prod-1"),
    ],
)
def test_field_validators_accept_the_good_and_reject_the_bad(validator, good, bad):
    validator(good)
    with pytest.raises(ValidationError):
        validator(bad)


def test_table_name_length_limits():
    validators.validate_table_name("a" * 255)
    with pytest.raises(ValidationError):
        validators.validate_table_name("a" * 256)


def test_the_sandbox_accepts_the_local_emulators_zone_ids_and_production_does_not(settings):
    settings.SANDBOX = False
    with pytest.raises(ValidationError):
        validators.validate_hosted_zone_id("0FQLKCO6WPH53ASTSN0IKT")
    settings.SANDBOX = True
    validators.validate_hosted_zone_id("0FQLKCO6WPH53ASTSN0IKT")
    with pytest.raises(ValidationError):
        validators.validate_hosted_zone_id("0fq-lower")


PATTERNED = [validators.validate_domain_name, validators.validate_hosted_zone_id,
             validators.validate_account_id, validators.validate_table_name,
             validators.validate_role_arn, validators.validate_slug, validators.validate_stage]
GOOD = {
    "validate_domain_name": "api.example.com", "validate_hosted_zone_id": "Z0123456789ABCDEFGHIJ",
    "validate_account_id": "123456789012", "validate_table_name": "orders",
    "validate_role_arn": "arn:aws:iam::123456789012:role/Deploy", "validate_slug": "orders",
    "validate_stage": "prod",
}


@pytest.mark.parametrize("validator", PATTERNED, ids=lambda v: v.__name__)
def test_a_trailing_newline_is_refused(validator):
    with pytest.raises(ValidationError):
        validator(GOOD[validator.__name__] + "\n")


def _pattern(validator) -> str:
    rules = validator.json_schema
    return (rules() if callable(rules) else rules)["pattern"]


@pytest.mark.parametrize("validator", PATTERNED, ids=lambda v: v.__name__)
@given(data=st.data())
def test_what_the_api_schema_pattern_allows_the_validator_accepts(validator, data):
    value = data.draw(st.from_regex(_pattern(validator), fullmatch=True).filter(
        lambda v: len(v) <= 253))
    validator(value)
