"""What a change set changes: its pages read whole, each change parsed, and the changes that
replace or remove a resource holding state flagged for confirmation."""

from itertools import chain

STATEFUL_TYPES = frozenset(
    {
        "AWS::DynamoDB::GlobalTable",
        "AWS::DynamoDB::Table",
        "AWS::Route53::HealthCheck",
        "AWS::ApiGateway::DomainName",
        "AWS::CertificateManager::Certificate",
    }
)
# Removing a latency record takes the region out of DNS; replacing it is harmless.
STATEFUL_ON_REMOVAL = frozenset({"AWS::Route53::RecordSet"})

CHANGE_SET_FINAL = ("CREATE_COMPLETE", "FAILED")
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


def final_change_set(pages) -> dict:
    """A change set's first page; once it is final, with the changes of every page."""
    first = next(pages)
    if first["Status"] in CHANGE_SET_FINAL:
        first["Changes"] = [c for page in chain([first], pages) for c in page.get("Changes", [])]
    return first


def parse_change(change: dict) -> dict:
    rc = change.get("ResourceChange", {})
    action = rc.get("Action", "")
    kind = rc.get("ResourceType", "")
    replacement = {"True": True, "False": False}.get(rc.get("Replacement", "False"), "Conditional")
    replaced = action == "Modify" and replacement in (True, "Conditional")
    stateful = (kind in STATEFUL_TYPES and (action == "Remove" or replaced)) or (
        kind in STATEFUL_ON_REMOVAL and action == "Remove")
    return {
        "logical_id": rc.get("LogicalResourceId", ""),
        "physical_id": rc.get("PhysicalResourceId", ""),
        "type": kind,
        "action": action,
        "replacement": replacement if action == "Modify" else False,
        "stateful_flag": stateful,
    }
