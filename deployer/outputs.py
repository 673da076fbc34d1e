"""The Route 53 health check of a deployed region, for apps that do not output HealthCheckId:
found among the stack's resources (its nested stacks' included) after a deploy.

`find_health_check` is the rule, a pure function over ListStackResources' summaries;
`stack_health_check` lists them through lib.aws; `health_check_id` prefers the output."""

from lib import aws

HEALTH_CHECK = "AWS::Route53::HealthCheck"
NESTED_STACK = "AWS::CloudFormation::Stack"
RECORD_TYPES = ("AWS::Route53::RecordSet", "AWS::Route53::RecordSetGroup")
GONE = ("DELETE_COMPLETE", "DELETE_IN_PROGRESS", "CREATE_FAILED")
# Nested stacks deeper than this are not searched (CloudFormation allows far fewer in practice).
MAX_DEPTH = 5


class HealthCheckNotFound(Exception):
    """The stack has no health check to watch, or several and nothing says which one."""

    retryable = False


def find_health_check(stack_name: str, resources: list[dict], template: dict | None = None
                      ) -> str:
    """The id of the stack's Route 53 health check: its only AWS::Route53::HealthCheck, or,
    when it has several, the one its record sets use (read from the stack's template).

    `resources` are ListStackResources summaries (LogicalResourceId, PhysicalResourceId,
    ResourceType, ResourceStatus); a nested stack's carry its name as StackName."""
    checks = [
        r for r in resources
        if r.get("ResourceType") == HEALTH_CHECK and r.get("PhysicalResourceId")
        and r.get("ResourceStatus") not in GONE
    ]
    if len(checks) == 1:
        return checks[0]["PhysicalResourceId"]
    names = ", ".join(_name(stack_name, r) for r in checks)
    if not checks:
        raise HealthCheckNotFound(
            f"Stack {stack_name} has no Route 53 health check (AWS::Route53::HealthCheck) and "
            "does not output HealthCheckId: the control plane has nothing to watch the region "
            "by."
        )
    used = _used_by_records(template or {})
    chosen = [r for r in checks
              if r.get("StackName", stack_name) == stack_name and r["LogicalResourceId"] in used]
    if len(chosen) == 1:
        return chosen[0]["PhysicalResourceId"]
    raise HealthCheckNotFound(
        f"Stack {stack_name} has {len(checks)} Route 53 health checks ({names}) and "
        f"{'several are' if chosen else 'none is'} used by its DNS records: output "
        "HealthCheckId to say which one the control plane watches."
    )


def _name(stack_name: str, resource: dict) -> str:
    owner = resource.get("StackName", stack_name)
    if owner.startswith("arn:"):
        owner = owner.split("/")[1]  # a nested stack, listed by its ARN
    where = "" if owner == stack_name else f" in {owner}"
    return f"{resource['LogicalResourceId']}{where}"


def _used_by_records(template: dict) -> set[str]:
    """Logical ids of the health checks the template's record sets name."""
    used = set()
    for resource in (template.get("Resources") or {}).values():
        if not isinstance(resource, dict) or resource.get("Type") not in RECORD_TYPES:
            continue
        properties = resource.get("Properties") or {}
        for record in [properties, *(properties.get("RecordSets") or [])]:
            ref = record.get("HealthCheckId") if isinstance(record, dict) else None
            if isinstance(ref, dict) and "Ref" in ref:
                used.add(ref["Ref"])
            elif isinstance(ref, dict) and "Fn::GetAtt" in ref:
                target = ref["Fn::GetAtt"]
                used.add(target[0] if isinstance(target, list) else str(target).split(".")[0])
    return used


def stack_resources(application, region: str, stack_name: str) -> list[dict]:
    """ListStackResources of the stack and of its nested stacks (each marked with StackName)."""
    cfn = aws.client("cloudformation", region, application)
    found, pending = [], [(stack_name, 0)]
    while pending:
        name, depth = pending.pop(0)
        try:
            for page in cfn.get_paginator("list_stack_resources").paginate(StackName=name):
                for summary in page.get("StackResourceSummaries", []):
                    found.append({**summary, "StackName": name})
                    nested = summary.get("PhysicalResourceId")
                    if (summary.get("ResourceType") == NESTED_STACK and nested
                            and depth < MAX_DEPTH and summary.get("ResourceStatus") not in GONE):
                        pending.append((nested, depth + 1))
        except Exception as exc:
            raise aws.AwsError.wrap(exc, service="cloudformation", region=region) from exc
    return found


def stack_health_check(application, region: str, stack_name: str,
                       template: dict | None = None) -> str:
    """The health check of a deployed stack, found among its resources."""
    resources = stack_resources(application, region, stack_name)
    return find_health_check(stack_name, resources, template)


def health_check_id(application, region: str, stack_name: str, outputs: dict,
                    template: dict | None = None) -> str:
    """The HealthCheckId output when the stack has one, else the health check among its
    resources. Raises HealthCheckNotFound (a contract error) or lib.aws.AwsError."""
    if outputs.get("HealthCheckId"):
        return outputs["HealthCheckId"]
    return stack_health_check(application, region, stack_name, template)
