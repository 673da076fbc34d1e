"""Stacks as CloudFormation describes them: their statuses, the engine's error and outcome,
and what a stack's description says (missing, outputs)."""

from dataclasses import dataclass

from lib import aws

FAILED_STATUSES = frozenset(
    {
        "CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "UPDATE_FAILED",
        "UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED", "DELETE_FAILED",
        "IMPORT_ROLLBACK_COMPLETE", "IMPORT_ROLLBACK_FAILED",
    }
)


class EngineError(Exception):
    """A step could not be carried out; `retryable` says whether trying later can help."""

    def __init__(self, message: str, *, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


@dataclass
class Outcome:
    status: str  # the stack's terminal status (DELETE_COMPLETE when the stack is gone)
    reason: str
    outputs: dict


def is_terminal(status: str) -> bool:
    return not status.endswith("_IN_PROGRESS")


def stack_missing(exc: aws.AwsError) -> bool:
    """CloudFormation's way of saying a stack does not exist."""
    return exc.code == "ValidationError" and "does not exist" in str(exc)


def outputs_of(stack: dict | None) -> dict:
    if not stack:
        return {}
    return {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs") or []}
