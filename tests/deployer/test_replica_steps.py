import pytest
from hypothesis import given
from hypothesis import strategies as st

from deployer.replicas import ReplicaStepError, Step, replica_steps

MAIN = "us-east-1"
POOL = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "sa-east-1"]


def test_adding_three_regions_adds_one_replica_then_deploys_its_region_each_time():
    assert replica_steps(MAIN, [MAIN], [MAIN, "us-west-2", "eu-west-1", "ap-southeast-2"]) == [
        Step("update_main", MAIN, ("ap-southeast-2",)),
        Step("deploy_region", "ap-southeast-2", ("ap-southeast-2",)),
        Step("update_main", MAIN, ("ap-southeast-2", "eu-west-1")),
        Step("deploy_region", "eu-west-1", ("ap-southeast-2", "eu-west-1")),
        Step("update_main", MAIN, ("ap-southeast-2", "eu-west-1", "us-west-2")),
        Step("deploy_region", "us-west-2", ("ap-southeast-2", "eu-west-1", "us-west-2")),
    ]


def test_removing_two_regions_destroys_each_regional_stack_before_dropping_its_replica():
    current = [MAIN, "eu-west-1", "us-west-2", "ap-southeast-2"]
    assert replica_steps(MAIN, current, [MAIN, "us-west-2"]) == [
        Step("destroy_region", "ap-southeast-2", ("ap-southeast-2", "eu-west-1", "us-west-2")),
        Step("update_main", MAIN, ("eu-west-1", "us-west-2")),
        Step("destroy_region", "eu-west-1", ("eu-west-1", "us-west-2")),
        Step("update_main", MAIN, ("us-west-2",)),
    ]


def test_removing_and_adding_in_one_change_removes_first():
    assert replica_steps(MAIN, [MAIN, "eu-west-1"], [MAIN, "us-west-2"]) == [
        Step("destroy_region", "eu-west-1", ("eu-west-1",)),
        Step("update_main", MAIN, ()),
        Step("update_main", MAIN, ("us-west-2",)),
        Step("deploy_region", "us-west-2", ("us-west-2",)),
    ]


def test_a_new_application_creates_the_main_stack_before_any_replica():
    assert replica_steps(MAIN, [], [MAIN, "eu-west-1"]) == [
        Step("update_main", MAIN, ()),
        Step("update_main", MAIN, ("eu-west-1",)),
        Step("deploy_region", "eu-west-1", ("eu-west-1",)),
    ]


def test_removing_the_main_region_while_replicas_stay_is_refused():
    with pytest.raises(ReplicaStepError, match="main region us-east-1 cannot be removed"):
        replica_steps(MAIN, [MAIN, "eu-west-1"], ["eu-west-1"])


def test_the_main_region_goes_last_when_nothing_else_remains():
    assert replica_steps(MAIN, [MAIN, "eu-west-1"], []) == [
        Step("destroy_region", "eu-west-1", ("eu-west-1",)),
        Step("update_main", MAIN, ()),
        Step("destroy_region", MAIN, ()),
    ]


def test_desired_regions_without_the_main_region_are_refused():
    with pytest.raises(ReplicaStepError, match="do not include the main region us-east-1"):
        replica_steps(MAIN, [], ["eu-west-1"])


def test_current_regions_without_the_main_region_are_refused():
    with pytest.raises(ReplicaStepError, match="replicas cannot exist without"):
        replica_steps(MAIN, ["eu-west-1"], [MAIN, "eu-west-1"])


@pytest.mark.parametrize("main", ["", None, "Mars", "us_east_1"])
def test_an_unknown_main_region_is_refused(main):
    with pytest.raises(ReplicaStepError, match="is not a region code"):
        replica_steps(main, [], [])


def test_a_region_list_given_as_a_string_is_refused():
    with pytest.raises(ReplicaStepError, match="must be a list"):
        replica_steps(MAIN, "us-east-1", [MAIN])


def test_no_change_gives_no_steps():
    assert replica_steps(MAIN, [MAIN, "eu-west-1"], ["eu-west-1", MAIN]) == []
    assert replica_steps(MAIN, [], []) == []


def test_a_step_reads_as_a_sentence_in_the_deploy_log():
    steps = replica_steps(MAIN, [MAIN], [MAIN, "eu-west-1"])
    assert [str(step) for step in steps] == [
        "update main region us-east-1 (replicas: eu-west-1)",
        "deploy region eu-west-1",
    ]


regions = st.sets(st.sampled_from(POOL[1:]))


@st.composite
def changes(draw):
    main = MAIN
    current = draw(regions)
    desired = draw(regions)
    current = current | {main} if draw(st.booleans()) or current else current
    desired = desired | {main} if draw(st.booleans()) or desired else desired
    return main, current, desired


@given(changes())
def test_steps_change_one_replica_at_a_time_and_order_regions_around_their_replica(change):
    main, current, desired = change
    steps = replica_steps(main, current, desired)

    replicas = set(current) - {main}
    deployed = set(current)
    for step in steps:
        if step.action == "update_main":
            after = set(step.replicas)
            assert len(after ^ replicas) <= 1, "an update changed more than one replica"
            assert step.region == main
            # A replica goes only after its regional stack is gone.
            assert not (replicas - after) & (deployed - {main})
            replicas = after
            deployed.add(main)
        elif step.action == "deploy_region":
            # A region deploys only once the main stack has added its replica.
            assert step.region in replicas
            deployed.add(step.region)
        else:
            assert step.action == "destroy_region"
            if step.region == main:
                assert deployed == {main} and not replicas
            else:
                assert step.region in replicas
            deployed.discard(step.region)
        assert step.replicas == tuple(sorted(replicas))

    assert deployed == set(desired)
    assert replicas == set(desired) - {main}
    assert steps == replica_steps(main, sorted(current, reverse=True), list(desired))
