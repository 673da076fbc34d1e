"""Template sources for a plan: the default one synthesizes the application (synth_plan, one
app start for every replica step when the app allows); tests may name another."""

from dataclasses import dataclass, field

from .service import SynthResult, synth_application, synth_plan

# The status of the log line that says what a plan's synth cost (the plan page shows it).
SYNTH_COST = "synth cost"


@dataclass
class Templates:
    key: str
    stacks: dict[str, tuple[str, dict]]  # region -> (stack name, template)
    lines: list[tuple[str, str]]
    needs: dict[str, dict] = field(default_factory=dict)  # region -> StackNeeds.summary()
    assembly: bool = False  # key names a synth cache entry holding the stacks and their assets


def synth_templates(application, regions, replica_regions, on_line=None,
                    release: str = "") -> Templates:
    """The default template source: one CDK synth for all the given regions."""
    result = synth_application(application, regions=list(regions),
                               replica_regions=list(replica_regions), on_line=on_line,
                               release=release or None)
    return _templates(result)


def _templates(result: SynthResult) -> Templates:
    return Templates(
        key=result.key,
        stacks={code: (a.stack_name, a.template) for code, a in result.stacks.items()},
        lines=list(result.lines),
        needs={code: a.needs.summary(code) for code, a in result.stacks.items()},
        assembly=True,
    )


def synth_requests(source, application, requests: list[tuple[list[str], list[str]]],
                   on_line=None, release: str = "") -> tuple[list[Templates], str]:
    """Templates for each (regions, replicas) request, and what the synth cost. With the
    default source one synth_plan answers them all: the request with most regions is the
    final synth, the others (the main region's replica steps) its replica_steps. `release`
    is the rollout's label, the app's release input."""
    if not requests:
        return [], ""
    if source is not synth_templates:
        return [source(application, wanted, replicas, on_line=on_line, release=release)
                for wanted, replicas in requests], ""
    regions, replicas = max(requests, key=lambda request: len(request[0]))
    steps = [r for w, r in requests if (w, r) != (regions, replicas)]
    plan = synth_plan(application, regions=regions, replica_regions=replicas,
                      replica_steps=steps, on_line=on_line, release=release or None)
    starts = plan.app_starts
    cost = (f"Synth: {starts} app start{'' if starts == 1 else 's'}, {plan.elapsed:.1f} s, "
            f"{plan.cache_hits} of {len(requests)} from the cache.")
    return [_templates(plan.final if (w, r) == (regions, replicas) else plan.steps[tuple(r)])
            for w, r in requests], cost
