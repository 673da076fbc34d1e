"""What a change set changes: its pages read whole, each change parsed (those of nested stacks'
change sets too, their logical ids prefixed with the nested stack's), and the changes that
replace or remove a resource holding state flagged for confirmation."""

from itertools import chain

STATEFUL_TYPES = frozenset(
    {
        "AWS::DynamoDB::GlobalTable",
        "AWS::DynamoDB::Table",
        "AWS::Route53::HealthCheck",
        "AWS::ApiGateway::DomainName",
        "AWS::CertificateManager::Certificate",
        # How Table.replicationRegions makes a replica: removing it deletes the region's data.
        "Custom::DynamoDBReplica",
    }
)
# Removing a latency record takes the region out of DNS; replacing it is harmless. Removing a
# nested stack removes every resource in it.
STATEFUL_ON_REMOVAL = frozenset({"AWS::Route53::RecordSet", "AWS::CloudFormation::Stack"})
# CloudFormation allows nested stacks this deep; deeper change sets are not read.
MAX_NESTING = 5

CHANGE_SET_FINAL = ("CREATE_COMPLETE", "FAILED")
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
# A property value longer than this is cut in the review (a policy document, say).
MAX_VALUE = 400


def final_change_set(pages) -> dict:
    """A change set's first page; once it is final, with the changes of every page."""
    first = next(pages)
    if first["Status"] in CHANGE_SET_FINAL:
        first["Changes"] = [c for page in chain([first], pages) for c in page.get("Changes", [])]
    return first


def parse_change(change: dict, prefix: str = "") -> dict:
    rc = change.get("ResourceChange", {})
    action = rc.get("Action", "")
    kind = rc.get("ResourceType", "")
    replacement = {"True": True, "False": False}.get(rc.get("Replacement", "False"), "Conditional")
    replaced = action == "Modify" and replacement in (True, "Conditional")
    stateful = (kind in STATEFUL_TYPES and (action == "Remove" or replaced)) or (
        kind in STATEFUL_ON_REMOVAL and action == "Remove")
    return {
        "logical_id": prefix + rc.get("LogicalResourceId", ""),
        "physical_id": rc.get("PhysicalResourceId", ""),
        "type": kind,
        "action": action,
        "replacement": replacement if action == "Modify" else False,
        "stateful_flag": stateful,
        "details": parse_details(rc.get("Details") or []),
    }


def _value(value) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE - 1] + "…"


def parse_details(details: list[dict]) -> list[dict]:
    """Each changed property once, with its values before and after when CloudFormation gave
    them (DescribeChangeSet with IncludePropertyValues; endpoints that do not give them leave
    them None) and whether changing it recreates the resource."""
    parsed: dict[str, dict] = {}
    for detail in details:
        target = detail.get("Target") or {}
        name = target.get("Name") or target.get("Attribute") or ""
        path = target.get("Path") or (f"/{target.get('Attribute')}/{name}"
                                      if target.get("Attribute") and target.get("Name") else name)
        if not path:
            continue
        entry = parsed.setdefault(path, {
            "path": path, "name": name, "change": target.get("AttributeChangeType", ""),
            "before": None, "after": None,
            "recreation": target.get("RequiresRecreation", "Never"),
        })
        # The same property may come twice (a static and a dynamic evaluation): keep values.
        for key, field in (("before", "BeforeValue"), ("after", "AfterValue")):
            if entry[key] is None:
                entry[key] = _value(target.get(field))
        if not entry["change"]:
            entry["change"] = target.get("AttributeChangeType", "")
    return list(parsed.values())


def parse_changes(changes: list[dict], describe, prefix: str = "", depth: int = 0) -> list[dict]:
    """Every change, each nested stack's followed by the changes of its own change set.

    `describe(change_set_id)` answers DescribeChangeSet for a nested change set (every page);
    a change set made with IncludeNestedStacks names one in each nested stack's change."""
    parsed = []
    for change in changes:
        parsed.append(parse_change(change, prefix))
        rc = change.get("ResourceChange", {})
        nested_id = rc.get("ChangeSetId")
        if nested_id and rc.get("ResourceType") == "AWS::CloudFormation::Stack" and (
                depth < MAX_NESTING):
            nested = describe(nested_id)
            parsed += parse_changes(nested.get("Changes") or [], describe,
                                    f"{prefix}{rc.get('LogicalResourceId', '')}/", depth + 1)
    return parsed
