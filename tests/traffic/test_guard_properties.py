"""No sequence of drains, restores, outages and recoveries accepted by the guard leaves fewer
than min_serving regions serving (traffic state), and draining is always refused when it would
leave fewer serving *and healthy* ones."""

from hypothesis import given, settings
from hypothesis import strategies as st

from regions.models import Traffic
from traffic.guard import RegionView, refusal, serves

CODES = ["us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1"]
steps = st.lists(st.tuples(st.sampled_from(["drain", "restore", "force", "outage", "recover"]),
                           st.sampled_from(CODES)), max_size=40)
STATE = {"drain": Traffic.DRAINED, "restore": Traffic.SERVING, "force": Traffic.FORCED}


@settings(max_examples=400, deadline=None)
@given(steps=steps, count=st.integers(1, 4), min_serving=st.integers(1, 3),
       health=st.lists(st.sampled_from([True, False, None]), min_size=4, max_size=4))
def test_no_accepted_sequence_leaves_too_few_serving_regions(steps, count, min_serving, health):
    regions = {c: RegionView(c, Traffic.SERVING, h) for c, h in zip(CODES[:count], health,
                                                                    strict=False)}
    for action, code in steps:
        if code not in regions:
            continue
        current = regions[code]
        if action in ("outage", "recover"):
            regions[code] = RegionView(code, current.traffic, action == "recover")
            continue
        before = [r for r in regions.values() if serves(r)]
        why = refusal(list(regions.values()), code, STATE[action], min_serving)
        if why is None:
            regions[code] = RegionView(code, STATE[action], current.healthy)
            if action == "drain":
                after = [r for r in regions.values() if serves(r)]
                assert len(after) >= min_serving
        elif action == "drain" and current.traffic != Traffic.DRAINED:
            # Refused only when it really would go below the minimum.
            assert len([r for r in before if r.code != code]) < min_serving
        # Whatever happened, a drained region count never reaches all regions unless the
        # guard was never asked to drain the last one.
        serving = [r for r in regions.values() if r.traffic != Traffic.DRAINED]
        assert serving, "every region drained"


def test_restoring_and_forcing_are_never_refused_by_the_minimum():
    regions = [RegionView("us-east-1", Traffic.DRAINED, False),
               RegionView("eu-west-1", Traffic.DRAINED, None)]
    assert refusal(regions, "us-east-1", Traffic.SERVING, 2) is None
    assert refusal(regions, "eu-west-1", Traffic.FORCED, 2) is None
