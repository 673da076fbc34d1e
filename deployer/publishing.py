"""What one step sends CloudFormation, made ready the way `cdk deploy` does: the bootstrap its
stack requires checked, the stack's assets for the region published (the template itself
included), and the change set's template URL, execution role, parameters, tags and nested
stacks taken from the synthesized stack.

The stack is read again from the synth cache by the key the plan stored on the step, so the
assembly (its asset files) is never copied into the database."""

from dataclasses import dataclass, field

from . import bootstrap
from .assets import AssetError, publish
from .cloudformation import EngineError
from .gates import rollback_configuration
from .models import Action, Deployment, EventSource, Level
from .synth import StackArtifact, cached_stack


@dataclass
class Request:
    template: dict
    options: dict = field(default_factory=dict)  # Engine.create_change_set's keywords


def request_for(engine) -> Request:
    """The change set request of the engine's step; publishes its assets first.

    Raises EngineError (NotBootstrapped among them) or lib.aws.AwsError."""
    d: Deployment = engine.d
    if d.action == Action.BOOTSTRAP:
        template, options = bootstrap.request(engine)
        return Request(template, options)
    rollback = rollback_configuration(d.rollout.application, d.region.code)
    if not d.synth_key:
        # A template source without a cloud assembly.
        return Request(d.template or {}, {"rollback": rollback} if rollback else {})
    found = cached_stack(d.synth_key, d.region.code)
    if found is None:
        raise EngineError(f"The cloud assembly of this plan (synth {d.synth_key[:12]}) is no "
                          "longer in SYNTH_CACHE_DIR on this worker; plan again.")
    outdir, stack = found
    bootstrap.require(d)
    template_url = publish_assets(d, outdir, stack)
    needs = stack.needs
    options = {
        "template_url": template_url,
        "parameters": dict(needs.parameters),
        "role_arn": needs.bootstrap.execution_role_arn if needs.bootstrap else "",
        "nested": bool(needs.nested),
        "tags": dict(needs.tags),
        "rollback": rollback,
    }
    if needs.nested:
        d.log("Nested stacks, whose changes the review includes: "
              + ", ".join(n.path for n in needs.nested) + ".")
    return Request(stack.template, options)


def publish_assets(d: Deployment, outdir, stack: StackArtifact) -> str:
    """Publish the stack's assets for the step's region; the template's URL when published."""
    region, application = d.region.code, d.rollout.application
    wanted = stack.needs.in_region(region)
    if not wanted:
        return ""
    d.log(f"Publishing {len(wanted)} asset(s) of stack {stack.stack_name} to {region}.")

    def on_line(stream: str, line: str) -> None:
        d.log(line, source=EventSource.CONTROL_PLANE,
              level=Level.WARNING if stream == "stderr" else Level.INFO)

    try:
        published = publish(outdir, stack, region, application, on_line=on_line)
    except AssetError as exc:
        raise EngineError(failure(exc, stack.stack_name, region, application.slug),
                          retryable=exc.retryable) from exc
    d.log(f"Assets published: {len(published.uploaded)} uploaded, {len(published.found)} "
          "already there.")
    return published.template_url


def failure(exc: AssetError, stack_name: str, region: str, slug: str) -> str:
    """A publishing failure as one sentence (the publisher's lines are in the log)."""
    reasons = [line.split("] fail: ", 1)[1] for _, line in exc.lines if "] fail: " in line]
    reason = (reasons[0] if reasons else str(exc).splitlines()[0]).strip().rstrip(".:")
    end = "" if reason.endswith(("?", "!")) else "."
    message = f"Publishing the assets of stack {stack_name} to {region} failed: {reason}{end}"
    if "bootstrapped" in reason or "No bucket named" in reason:
        message += (f" Bootstrap {region}: press Bootstrap on the region page, or "
                    f"`manage.py bootstrap {slug} --region {region}`.")
    return message
