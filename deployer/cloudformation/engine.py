"""The engine: one deployment's change set, its execution and the stack's events, through
lib.aws.client. Throttling is retried with backoff and logged, never raised."""

import json
import random
import time
import uuid

from django.conf import settings
from django.utils import timezone

from lib import aws

from ..models import Action, Deployment, EventSource, Level
from ..synth.needs import TEMPLATE_BODY_LIMIT
from .changes import CAPABILITIES, CHANGE_SET_FINAL, NO_CHANGES, final_change_set, parse_changes
from .stacks import EngineError, Outcome, StackMoves, is_terminal, outputs_of, stack_missing


class Engine(StackMoves):
    """CloudFormation work for one deployment."""

    def __init__(self, deployment: Deployment, heartbeat=None, should_cancel=None):
        self.d = deployment
        self.application = deployment.rollout.application
        self.region = deployment.region.code
        self.heartbeat = heartbeat or (lambda: None)
        self.should_cancel = should_cancel or (lambda: False)
        self._cf = None

    @property
    def cf(self):
        if self._cf is None:
            # retrying() backs off and logs each retry; botocore must not retry too.
            self._cf = aws.client("cloudformation", self.region, self.application,
                                  retries={"mode": "standard", "max_attempts": 1})
        return self._cf

    def log(self, message: str, level: str = Level.INFO, **kwargs):
        return self.d.log(message, source=EventSource.CONTROL_PLANE, level=level, **kwargs)

    def call(self, operation: str, **kwargs):
        """One CloudFormation call; throttling and unreachable endpoints retry with backoff."""
        return self.retrying(operation, lambda: getattr(self.cf, operation)(**kwargs))

    def paged(self, operation: str, read, **kwargs):
        """read(pages) over the call's pages, lazily; a retry reads again from the first page."""
        paginator = self.cf.get_paginator(operation)
        return self.retrying(operation, lambda: read(iter(paginator.paginate(**kwargs))))

    def retrying(self, operation: str, request):
        attempts = settings.DEPLOY_AWS_ATTEMPTS
        for attempt in range(1, attempts + 1):
            try:
                return request()
            except Exception as exc:  # noqa: BLE001 - every AWS failure becomes an AwsError
                error = aws.AwsError.wrap(exc, service="cloudformation", region=self.region)
                if not error.retryable or attempt == attempts:
                    raise error from exc
                pause = min(60.0, 2 ** attempt) * random.uniform(0.5, 1.0)
                self.log(f"{operation}: {error.code or 'transient error'}; retrying in "
                         f"{pause:.1f}s (attempt {attempt} of {attempts}).", Level.WARNING)
                self.heartbeat()
                time.sleep(pause)
        raise AssertionError("unreachable")

    def describe_stack(self, name: str | None = None) -> dict | None:
        try:
            answer = self.call("describe_stacks", StackName=name or self.d.stack_name)
        except aws.AwsError as exc:
            if stack_missing(exc):
                return None
            raise
        stacks = answer.get("Stacks") or []
        return stacks[0] if stacks else None

    def sleep(self) -> None:
        self.heartbeat()
        time.sleep(settings.DEPLOY_POLL_INTERVAL)

    def create_change_set(self, template: dict, *, template_url: str = "",
                          parameters: dict | None = None, role_arn: str = "",
                          nested: bool = False, tags: dict | None = None,
                          rollback: dict | None = None) -> bool:
        """Create and wait for the change set; store its changes. False when nothing changes.

        As `cdk deploy` makes it: the template by `template_url` when it is published (else
        its body, which CloudFormation takes up to 51,200 bytes), the execution role, nested
        stacks included. A parameter whose value is None keeps its previous value."""
        d = self.d
        body = "" if template_url else json.dumps(template, separators=(",", ":"))
        if len(body.encode()) > TEMPLATE_BODY_LIMIT:
            raise EngineError(
                f"The template of stack {d.stack_name} is {len(body.encode()):,} bytes, more than "
                f"the {TEMPLATE_BODY_LIMIT:,} CloudFormation takes in a request, and its "
                "synthesizer publishes no copy of it: use the default synthesizer "
                "(DefaultStackSynthesizer), which publishes the template to the bootstrap "
                "bucket, or make the stack smaller.")
        kind = self.prepare_stack()
        d.creates_stack = kind == "CREATE"
        name = f"meridian-{d.rollout_id}-{d.step}-{uuid.uuid4().hex[:8]}"
        self.log(f"Creating change set {name} ({kind}) for stack {d.stack_name}"
                 + (f" from {template_url}" if template_url else "") + ".")
        options = {"TemplateURL": template_url} if template_url else {"TemplateBody": body}
        if parameters:
            options["Parameters"] = [
                {"ParameterKey": key, "UsePreviousValue": True} if value is None else
                {"ParameterKey": key, "ParameterValue": str(value)}
                for key, value in parameters.items()]
        if role_arn:
            options["RoleARN"] = role_arn
        if nested:
            options["IncludeNestedStacks"] = True
        if tags:
            options["Tags"] = [{"Key": k, "Value": str(v)} for k, v in tags.items()]
        if rollback:
            # The application's alarms: CloudFormation rolls the stack back when one goes off.
            options["RollbackConfiguration"] = rollback
        try:
            answer = self.call(
                "create_change_set", StackName=d.stack_name, ChangeSetName=name,
                ChangeSetType=kind, Capabilities=CAPABILITIES,
                Description=f"Meridian rollout {d.rollout_id}, step {d.step}", **options,
            )
        except aws.AwsError as exc:
            # Some endpoints refuse an unchanged template at once instead of failing the set.
            if any(marker in exc.message for marker in NO_CHANGES):
                return self.no_changes()
            raise
        d.change_set_id, d.change_set_name = answer["Id"], name
        d.save(update_fields=["change_set_id", "change_set_name", "creates_stack"])

        described = self.wait_for_change_set()
        if described["Status"] == "FAILED":
            reason = described.get("StatusReason", "")
            if any(marker in reason for marker in NO_CHANGES):
                return self.no_changes()
            raise EngineError(f"CloudFormation could not create the change set: "
                              f"{reason.rstrip('.')}. "
                              "Correct the template (or the inventory it is made from) and "
                              "plan again.")
        changes = parse_changes(described["Changes"], self.describe_nested)
        d.changes, d.resources_total = changes, len(changes)
        d.save(update_fields=["changes", "resources_total"])
        flagged = [c for c in changes if c["stateful_flag"]]
        self.log(f"Change set ready: {len(changes)} change(s)"
                 + (f", {len(flagged)} to stateful resources." if flagged else "."))
        return bool(changes)

    def no_changes(self) -> bool:
        self.d.changes, self.d.resources_total = [], 0
        self.d.save(update_fields=["changes", "resources_total"])
        self.log("No changes: the stack already matches the template.")
        return False

    def describe_nested(self, change_set_id: str) -> dict:
        """A nested stack's change set, every page of it."""
        return self.paged("describe_change_set", final_change_set, ChangeSetName=change_set_id,
                          IncludePropertyValues=True)

    def wait_for_change_set(self) -> dict:
        deadline = time.monotonic() + settings.DEPLOY_CHANGE_SET_TIMEOUT
        while True:
            # With the before and after value of every property the review shows.
            described = self.paged("describe_change_set", final_change_set,
                                   ChangeSetName=self.d.change_set_id, IncludePropertyValues=True)
            if described["Status"] in CHANGE_SET_FINAL:
                return described
            if time.monotonic() > deadline:
                raise EngineError(f"Change set {self.d.change_set_name} was not ready in time "
                                  f"(still {described['Status']}); plan again.", retryable=True)
            self.sleep()

    def execution_status(self) -> str:
        """The change set's ExecutionStatus; "" when it no longer exists."""
        described = self.describe_change_set(self.d.change_set_id) or {}
        self._stack_id = described.get("StackId") or ""
        return described.get("ExecutionStatus", "")

    def stack_id(self) -> str:
        """The stack the change set belongs to, by id: a name can outlive a stack."""
        if not getattr(self, "_stack_id", "") and self.d.change_set_id:
            self.execution_status()
        return getattr(self, "_stack_id", "") or self.d.stack_name

    def execute(self) -> None:
        """Execute exactly the reviewed change set, once."""
        d = self.d
        status = self.execution_status()
        if not status:
            raise EngineError(f"Change set {d.change_set_name} no longer exists (it was deleted, "
                              "or the local AWS started afresh); plan again.")
        if status == "OBSOLETE":
            raise EngineError(f"Stack {d.stack_name} changed since this plan, so CloudFormation "
                              f"made change set {d.change_set_name} obsolete; plan again.")
        if status != "AVAILABLE":
            raise EngineError(f"Change set {d.change_set_name} cannot be executed: its "
                              f"execution status is {status}; plan again.")
        self.remember_baseline()
        # Claimed before the call, so no second task or reaper ever sends it again.
        claimed = Deployment.objects.filter(pk=d.pk, executed_at__isnull=True).update(
            executed_at=timezone.now(), heartbeat_at=timezone.now())
        if claimed != 1:
            raise EngineError(f"Change set {d.change_set_name} was already sent for execution.")
        d.refresh_from_db(fields=["executed_at"])
        self.log(f"Executing change set {d.change_set_name}.")
        try:
            self.call("execute_change_set", ChangeSetName=d.change_set_id)
        except aws.AwsError as exc:
            raise EngineError(f"CloudFormation could not execute the change set: {exc}") from exc

    def delete(self) -> None:
        """Delete the stack (destroy_region)."""
        d = self.d
        stack = self.describe_stack()
        if stack is None:
            self.log(f"Stack {d.stack_name} does not exist; nothing to delete.")
            return
        self.remember_baseline()
        claimed = Deployment.objects.filter(pk=d.pk, executed_at__isnull=True).update(
            executed_at=timezone.now(), heartbeat_at=timezone.now())
        if claimed != 1:
            raise EngineError(f"Deleting stack {d.stack_name} was already requested.")
        d.refresh_from_db(fields=["executed_at"])
        d.resources_total = max(d.resources_total, 1)
        d.save(update_fields=["resources_total"])
        self.log(f"Deleting stack {d.stack_name}.")
        self.call("delete_stack", StackName=stack["StackId"])
        # Follow by id: a deleted stack is still described by its id.
        d.stack_name = stack["StackId"]

    def remember_baseline(self) -> None:
        """Note the newest existing event: everything up to it belongs to earlier runs."""
        try:
            answer = self.call("describe_stack_events", StackName=self.d.stack_name)
        except aws.AwsError as exc:
            if stack_missing(exc):
                return
            raise
        events = answer.get("StackEvents") or []
        self.d.baseline_event_id = events[0]["EventId"] if events else ""
        self.d.save(update_fields=["baseline_event_id"])

    def new_events(self, stack: str, seen: set[str]) -> list[dict]:
        """Events since the baseline, oldest first, that are not in the log yet."""

        def read(pages) -> list[dict]:
            found: list[dict] = []
            for page in pages:  # newest first: stop at the first event already known
                for event in page.get("StackEvents") or []:
                    if event["EventId"] == self.d.baseline_event_id or event["EventId"] in seen:
                        return found
                    found.append(event)
            return found

        try:
            found = self.paged("describe_stack_events", read, StackName=stack)
        except aws.AwsError as exc:
            if stack_missing(exc):
                return []
            raise
        return list(reversed(found))

    def follow(self, deleting: bool = False) -> Outcome:
        """Write the stack's events into the log until it reaches a terminal status."""
        d = self.d
        stack_ref = d.stack_name if deleting else self.stack_id()
        seen = set(d.events.exclude(external_id="").values_list("external_id", flat=True))
        done: set[str] = set()
        changed = {c["logical_id"] for c in d.changes or []}
        delay = settings.DEPLOY_FOLLOW_DELAY
        cancel_sent = False
        while True:
            for event in self.new_events(stack_ref, seen):
                seen.add(event["EventId"])
                self.write_event(event)
                status = event.get("ResourceStatus", "")
                logical = event.get("LogicalResourceId", "")
                if event.get("ResourceType") != "AWS::CloudFormation::Stack" and (
                    status.endswith("_COMPLETE") or status.endswith("_SKIPPED")
                ):
                    done.add(logical)
            progress = len(done & changed) if changed else len(done)
            if progress != d.resources_done:
                d.resources_done = min(progress, d.resources_total or progress)
                Deployment.objects.filter(pk=d.pk).update(resources_done=d.resources_done)
            stack = self.describe_stack(stack_ref)
            status = stack["StackStatus"] if stack else "DELETE_COMPLETE"
            settled = d.executed_at is None or (
                (timezone.now() - d.executed_at).total_seconds() >= delay)
            if is_terminal(status) and status != "REVIEW_IN_PROGRESS" and settled:
                if not stack and not deleting:
                    raise EngineError(f"Stack {d.stack_name} disappeared while it was deployed.")
                return Outcome(status, self.failure_reason(stack), self.outputs(stack))
            if not cancel_sent and self.should_cancel():
                cancel_sent = True
                if status == "UPDATE_IN_PROGRESS":
                    self.log("Cancel requested: asking CloudFormation to cancel the update.",
                             Level.WARNING)
                    try:
                        self.call("cancel_update_stack", StackName=stack_ref)
                    except aws.AwsError as exc:
                        self.log(f"CloudFormation did not cancel the update: {exc}",
                                 Level.WARNING)
                else:
                    self.log(f"Cancel requested, but a stack in {status} cannot be cancelled; "
                             "following it to the end.", Level.WARNING)
            self.sleep()

    def outputs(self, stack: dict | None) -> dict:
        """The stack's outputs; where the endpoint reports none although the template declares
        some (moto, for stacks made by change sets), literal and Ref outputs are resolved from
        the stack's resources."""
        found = outputs_of(stack)
        declared = (self.d.template or {}).get("Outputs") or {}
        if found or not stack or not declared or self.d.action == Action.DESTROY_REGION:
            return found
        answer = self.call("describe_stack_resources", StackName=stack["StackId"])
        # An emulator may list a resource it replaced without its logical id: skip such rows.
        physical = {r["LogicalResourceId"]: r.get("PhysicalResourceId", "")
                    for r in answer.get("StackResources") or [] if r.get("LogicalResourceId")}
        # moto updates some resources (health checks) in place but then lists them without
        # their ids: such a Ref keeps the value the region recorded before.
        before = self.d.region.outputs or {}
        for key, output in declared.items():
            value = output.get("Value")
            if isinstance(value, str):
                found[key] = value
            elif isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in physical:
                found[key] = physical[value["Ref"]]
            elif isinstance(value, dict) and set(value) == {"Ref"} and before.get(key):
                found[key] = before[key]
        return found

    def follow_once(self) -> None:
        """Write the events not yet in the log, without waiting for more."""
        seen = set(self.d.events.exclude(external_id="").values_list("external_id", flat=True))
        ref = self.d.stack_name if self.d.action == Action.DESTROY_REGION else self.stack_id()
        for event in self.new_events(ref, seen):
            self.write_event(event)

    def write_event(self, event: dict) -> None:
        status = event.get("ResourceStatus", "")
        level = Level.ERROR if status.endswith("_FAILED") else Level.INFO
        self.d.log(
            event.get("ResourceStatusReason") or "",
            source=EventSource.CLOUDFORMATION, level=level,
            resource=f"{event.get('LogicalResourceId', '')} ({event.get('ResourceType', '')})",
            status=status, external_id=event["EventId"],
        )

    def failure_reason(self, stack: dict | None) -> str:
        if stack is None:
            return ""
        reasons = list(
            self.d.events.filter(level=Level.ERROR, source=EventSource.CLOUDFORMATION)
            .exclude(message="").values_list("resource", "message")[:3]
        )
        parts = [stack.get("StackStatusReason") or ""] + [f"{r}: {m}" for r, m in reasons]
        return "; ".join(p for p in parts if p)

    def settle_from_stack(self) -> tuple[str, Outcome | None]:
        """What CloudFormation says about this deployment now: (verdict, outcome).

        verdict is one of "not_executed", "in_progress", "finished", "missing"."""
        d = self.d
        # execute() and delete() claim executed_at before they call AWS.
        if d.executed_at is None:
            return "not_executed", None
        if d.action != Action.DESTROY_REGION and d.change_set_id:
            try:
                execution = self.execution_status()
            except aws.AwsError as exc:
                if exc.retryable:
                    raise
                execution = ""
            if execution == "AVAILABLE":  # claimed, then the worker died before the call
                return "not_executed", None
        stack = self.describe_stack(None if d.action == Action.DESTROY_REGION else self.stack_id())
        if stack is None:
            if d.action == Action.DESTROY_REGION and d.executed_at:
                return "finished", Outcome("DELETE_COMPLETE", "", {})
            return "missing", None
        status = stack["StackStatus"]
        if not is_terminal(status) or status == "REVIEW_IN_PROGRESS":
            return "in_progress", None
        return "finished", Outcome(status, stack.get("StackStatusReason") or "",
                                   self.outputs(stack))
