"""Reading and checking the app contract's inputs."""

import pytest

from deployer.cdkapp.inputs import InputError, read_inputs

ENV = {
    "AWS_REGION": "eu-west-1",
    "REGIONS": "us-east-1, eu-west-1,ap-southeast-2",
    "MAIN_REGION": "us-east-1",
    "REPLICATION_REGIONS": "eu-west-1",
    "DOMAIN_NAME": "api.example.com",
    "HOSTED_ZONE_ID": "Z0123456789ABC",
    "TABLE_NAME": "orders",
    "CDK_DEFAULT_ACCOUNT": "123456789012",
}


def test_it_reads_every_input_from_the_environment_with_defaults_for_the_rest():
    inputs = read_inputs({}, ENV)
    assert inputs.regions == ("us-east-1", "eu-west-1", "ap-southeast-2")
    assert inputs.main_region == "us-east-1"
    assert inputs.replica_regions == ("eu-west-1",)
    assert (inputs.domain_name, inputs.hosted_zone_id, inputs.table_name, inputs.account) == (
        "api.example.com", "Z0123456789ABC", "orders", "123456789012",
    )
    assert (inputs.app_name, inputs.stage, inputs.health_check_interval, inputs.failure_threshold) == (
        "meridian", "prod", 30, 3,
    )
    assert (inputs.release, inputs.nag) == ("1", False)


def test_it_reads_the_optional_inputs_from_the_environment_too():
    env = {**ENV, "APP_NAME": "carts", "STAGE": "live", "HEALTH_CHECK_INTERVAL": "10",
           "FAILURE_THRESHOLD": "5", "RELEASE": "r42"}
    inputs = read_inputs({}, env)
    assert (inputs.app_name, inputs.stage, inputs.health_check_interval, inputs.failure_threshold, inputs.release) == (
        "carts", "live", 10, 5, "r42",
    )


def test_it_prefers_context_over_the_environment():
    context = {"regions": ["eu-west-1", "us-west-2"], "main_region": "eu-west-1", "replica_regions": [],
               "table_name": "carts", "health_check_interval": "10", "failure_threshold": 1,
               "app_name": "carts", "stage": "live", "release": "2026-11-27.1", "nag": "true"}
    inputs = read_inputs(context, ENV)
    assert inputs.regions == ("eu-west-1", "us-west-2")
    assert (inputs.main_region, inputs.replica_regions, inputs.table_name) == ("eu-west-1", (), "carts")
    assert (inputs.health_check_interval, inputs.failure_threshold) == (10, 1)
    assert (inputs.app_name, inputs.stage, inputs.release, inputs.nag) == ("carts", "live", "2026-11-27.1", True)
    assert inputs.stack_name("us-west-2") == "carts-us-west-2"


def test_it_synthesizes_only_the_one_region_when_no_regions_are_given():
    env = {k: v for k, v in ENV.items() if k != "REGIONS"}
    assert read_inputs({}, env).regions == ("eu-west-1",)
    assert read_inputs({"region": "ap-southeast-2"}, env).regions == ("ap-southeast-2",)
    del env["AWS_REGION"]
    assert read_inputs({}, {**env, "CDK_DEFAULT_REGION": "us-west-2"}).regions == ("us-west-2",)
    assert read_inputs({}, {**env, "AWS_DEFAULT_REGION": "sa-east-1"}).regions == ("sa-east-1",)


def test_it_accepts_a_replica_list_that_differs_from_the_other_regions():
    inputs = read_inputs({"replica_regions": "ap-southeast-2,sa-east-1"}, ENV)
    assert inputs.replica_regions == ("ap-southeast-2", "sa-east-1")


def test_it_takes_the_parent_domain_as_zone_name_except_for_an_apex():
    assert read_inputs({}, ENV).zone_name == "example.com"
    assert read_inputs({"domain_name": "Example.COM."}, ENV).zone_name == "example.com"


def test_it_strips_the_hostedzone_prefix_route53_puts_on_zone_ids():
    assert read_inputs({"hosted_zone_id": "/hostedzone/Z0123456789ABC"}, ENV).hosted_zone_id == "Z0123456789ABC"


@pytest.mark.parametrize(("context", "message"), [
    ({"main_region": "eu-central-1"}, "main_region eu-central-1 is not among regions"),
    ({"replica_regions": "eu-west-1,us-east-1"}, "replica_regions must not contain the main region us-east-1"),
    ({"replica_regions": "eu-west-1,eu-west-1"}, "replica_regions lists a region twice"),
    ({"regions": "us-east-1,us-east-1"}, "regions lists a region twice"),
    ({"regions": "us-east-1,Europe"}, "regions: 'Europe' is not an AWS region name"),
    ({"account": "12345"}, "account: '12345' is not a 12-digit AWS account id"),
    ({"hosted_zone_id": "zone-1"}, "hosted_zone_id: 'zone-1' is not a Route 53 hosted zone id"),
    ({"domain_name": "localhost"}, "domain_name: 'localhost' is not a domain name"),
    ({"domain_name": "api_x.example.com"}, "domain_name: 'api_x.example.com' is not a domain name"),
    ({"table_name": "ab"}, "table_name: 'ab' is not a DynamoDB table name"),
    ({"app_name": "9lives"}, "app_name: '9lives' must start with a letter"),
    ({"stage": "prod-1"}, "stage: 'prod-1' must hold only letters, digits and _"),
    ({"health_check_interval": 20}, "health_check_interval must be one of [10, 30], not 20"),
    ({"failure_threshold": "11"}, "failure_threshold must be one of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], not 11"),
    ({"failure_threshold": "three"}, "failure_threshold must be a whole number, not 'three'"),
    ({"nag": "maybe"}, "nag must be true or false, not 'maybe'"),
    ({"drained_regions": "eu-west-1", "forced_regions": "eu-west-1"},
     "a region cannot be both drained and forced: eu-west-1"),
    ({"control_region": "moon-1"}, "control_region: 'moon-1' is not an AWS region name"),
])
def test_it_names_the_input_that_is_wrong(context, message):
    with pytest.raises(InputError) as raised:
        read_inputs(context, ENV)
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(("missing", "message"), [
    ("TABLE_NAME", "missing input table_name (context key 'table_name' or env TABLE_NAME)"),
    ("CDK_DEFAULT_ACCOUNT", "missing input account (context key 'account' or env CDK_DEFAULT_ACCOUNT)"),
    ("HOSTED_ZONE_ID", "missing input hosted_zone_id (context key 'hosted_zone_id' or env HOSTED_ZONE_ID)"),
])
def test_it_names_the_missing_input_and_where_it_may_come_from(missing, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_inputs({}, {k: v for k, v in ENV.items() if k != missing})


def test_it_needs_a_region_when_no_regions_are_given():
    env = {k: v for k, v in ENV.items() if k not in ("REGIONS", "AWS_REGION")}
    with pytest.raises(InputError, match="missing input region .*AWS_REGION or CDK_DEFAULT_REGION or AWS_DEFAULT_REGION"):
        read_inputs({}, env)
