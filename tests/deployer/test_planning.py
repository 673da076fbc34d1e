import pytest
from hypothesis import given
from hypothesis import strategies as st

from deployer.planning import ReplicaStepError, Step, StepSpec, plan_steps, replica_steps

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


def test_the_main_region_goes_first_alone_and_the_others_depend_only_on_it():
    states = {MAIN: "active", "eu-west-1": "active", "ap-southeast-2": "active"}
    assert plan_steps(MAIN, states) == [
        StepSpec("update_main", MAIN, ("ap-southeast-2", "eu-west-1"), ()),
        StepSpec("deploy_region", "ap-southeast-2", ("ap-southeast-2", "eu-west-1"), (0,)),
        StepSpec("deploy_region", "eu-west-1", ("ap-southeast-2", "eu-west-1"), (0,)),
    ]


def test_an_added_region_is_a_chain_and_the_steady_regions_wait_for_the_last_main_update():
    states = {MAIN: "active", "eu-west-1": "active", "us-west-2": "planned"}
    assert plan_steps(MAIN, states) == [
        StepSpec("update_main", MAIN, ("eu-west-1", "us-west-2"), ()),
        StepSpec("deploy_region", "us-west-2", ("eu-west-1", "us-west-2"), (0,)),
        StepSpec("deploy_region", "eu-west-1", ("eu-west-1", "us-west-2"), (0,)),
    ]


def test_a_new_application_creates_its_table_then_adds_each_replica_in_turn():
    assert plan_steps(MAIN, {MAIN: "planned", "eu-west-1": "planned"}) == [
        StepSpec("update_main", MAIN, (), ()),
        StepSpec("update_main", MAIN, ("eu-west-1",), (0,)),
        StepSpec("deploy_region", "eu-west-1", ("eu-west-1",), (1,)),
    ]


def test_a_removing_region_is_destroyed_before_the_main_stack_drops_its_replica():
    assert plan_steps(MAIN, {MAIN: "active", "eu-west-1": "removing"}) == [
        StepSpec("destroy_region", "eu-west-1", ("eu-west-1",), ()),
        StepSpec("update_main", MAIN, (), (0,)),
    ]


def test_removed_regions_take_no_part_in_the_plan():
    assert plan_steps(MAIN, {MAIN: "active", "eu-west-1": "removed"}) == [
        StepSpec("update_main", MAIN, (), ()),
    ]


def test_an_application_with_no_regions_has_no_steps():
    assert plan_steps(MAIN, {}) == []


def test_the_last_region_in_service_is_never_removed():
    with pytest.raises(ReplicaStepError, match="last region in service"):
        plan_steps(MAIN, {MAIN: "removing", "eu-west-1": "removing"})


def test_one_region_only_keeps_its_steps_and_needs_no_other():
    states = {MAIN: "active", "eu-west-1": "active"}
    assert plan_steps(MAIN, states, only_region="eu-west-1") == [
        StepSpec("deploy_region", "eu-west-1", ("eu-west-1",), ()),
    ]


def test_one_region_only_is_refused_while_regions_are_added_or_removed():
    with pytest.raises(ReplicaStepError, match="Regions are being added or removed"):
        plan_steps(MAIN, {MAIN: "active", "eu-west-1": "planned"}, only_region=MAIN)


def test_one_region_only_is_refused_for_a_region_the_application_does_not_have():
    with pytest.raises(ReplicaStepError, match="us-west-2 is not a region of this application"):
        plan_steps(MAIN, {MAIN: "active"}, only_region="us-west-2")


states = st.dictionaries(
    st.sampled_from(POOL[1:]),
    st.sampled_from(["planned", "provisioning", "active", "removing", "failed", "removed"]),
)


@given(states, st.sampled_from(["provisioning", "active", "failed"]))
def test_every_step_waits_for_earlier_ones_and_every_region_deploys_after_a_main_update(
        others, main_state):
    steps = plan_steps(MAIN, {**others, MAIN: main_state})

    for index, step in enumerate(steps):
        assert all(0 <= before < index for before in step.depends_on)
        # Only the first step of the rollout starts without waiting for another.
        assert bool(step.depends_on) == (index > 0)
        if step.action == "deploy_region":
            assert any(steps[before].action == "update_main" for before in step.depends_on)
    deployed = {s.region for s in steps if s.action == "deploy_region"}
    destroyed = {s.region for s in steps if s.action == "destroy_region"}
    assert deployed == {code for code, state in others.items()
                        if state not in ("removing", "removed")}
    assert destroyed == {code for code, state in others.items() if state == "removing"}
