"""Stacks as CloudFormation describes them: their statuses and what each one allows
(`next_move`, pure), the moves that bring a stack named for a deployment to a state a change
set can start from, and the deletion of change sets that will never run.

Stacks are handled by name, as CloudFormation keeps at most one live stack per name; every
move acts on the stack's id and the name is described again afterwards, so a move always acts
on the stack it looked at (and an emulator that keeps several stacks of one name converges).
"""

import time
from dataclasses import dataclass
from enum import Enum

from django.conf import settings

from lib import aws

from ..models import Level

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
    return exc.code == "ValidationError" and "does not exist" in exc.message


def change_set_missing(exc: aws.AwsError) -> bool:
    """A change set (or the stack that held it) is gone."""
    return exc.code in ("ChangeSetNotFound", "ChangeSetNotFoundException") or stack_missing(exc)


class Move(Enum):
    CREATE = "CREATE"  # no stack: a CREATE change set
    UPDATE = "UPDATE"  # a stack that takes an UPDATE change set
    DISCARD = "discard"  # only change sets that never ran: delete them and the empty stack
    RECREATE = "recreate"  # never created, or being deleted: delete it, then create it
    CONTINUE_ROLLBACK = "continue_rollback"  # ContinueUpdateRollback, then update
    WAIT = "wait"  # CloudFormation is working on it: wait for a settled status
    BLOCKED = "blocked"  # only an operator can resolve it


UPDATABLE = frozenset({
    "CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "UPDATE_FAILED",
    "IMPORT_COMPLETE", "IMPORT_ROLLBACK_COMPLETE",
})
# CloudFormation's guidance for each: "you can only delete it" (ROLLBACK_COMPLETE), "delete the
# stack" (ROLLBACK_FAILED, DELETE_FAILED); CREATE_FAILED is a first create that never completed.
RECREATED = frozenset({"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED", "DELETE_FAILED"})


def next_move(status: str) -> Move:
    """What a stack in `status` needs before a change set; "" is no stack.

    | status | move |
    |---|---|
    | none, DELETE_COMPLETE | create |
    | REVIEW_IN_PROGRESS (holds only change sets that never ran) | discard, then create |
    | ROLLBACK_COMPLETE, ROLLBACK_FAILED, CREATE_FAILED, DELETE_FAILED | delete, then create |
    | CREATE/UPDATE/IMPORT_COMPLETE, UPDATE_ROLLBACK_COMPLETE, UPDATE_FAILED, IMPORT_ROLLBACK_COMPLETE | update |
    | UPDATE_ROLLBACK_FAILED | continue the rollback, then update |
    | any other *_IN_PROGRESS | wait until it settles |
    | anything else (IMPORT_ROLLBACK_FAILED) | blocked: the operator resolves it |
    """  # noqa: E501 - a table reads best unwrapped
    if status in ("", "DELETE_COMPLETE"):
        return Move.CREATE
    if status == "REVIEW_IN_PROGRESS":
        return Move.DISCARD
    if status in RECREATED:
        return Move.RECREATE
    if status in UPDATABLE:
        return Move.UPDATE
    if status == "UPDATE_ROLLBACK_FAILED":
        return Move.CONTINUE_ROLLBACK
    if status.endswith("_IN_PROGRESS"):
        return Move.WAIT
    return Move.BLOCKED


# Each move changes the stack a name describes; this bounds a name with many stale stacks.
MAX_MOVES = 20


class StackMoves:
    """The Engine's stack handling (it provides d, call, paged, log, describe_stack, sleep)."""

    def prepare_stack(self) -> str:
        """Bring the deployment's stack to a state a change set can start from; its type."""
        name = self.d.stack_name
        for _ in range(MAX_MOVES):
            stack = self.describe_stack(name)
            status = stack["StackStatus"] if stack else ""
            move = next_move(status)
            if move in (Move.CREATE, Move.UPDATE):
                return move.value
            stack_id, why = stack["StackId"], stack.get("StackStatusReason") or ""
            if move == Move.WAIT:
                self.log(f"Stack {name} is {status}; waiting for CloudFormation to finish.")
                self.wait_until_settled(stack_id)
            elif move == Move.DISCARD:
                self.log(f"Stack {name} holds only change sets that never ran "
                         "(REVIEW_IN_PROGRESS); deleting them and the empty stack so it is "
                         "created afresh.")
                for change_set in self.change_sets_of(stack_id):
                    self.delete_change_set(change_set["ChangeSetId"],
                                           change_set["ChangeSetName"])
                self.delete_and_wait(stack_id)
            elif move == Move.RECREATE:
                story = ("an earlier deletion did not finish; deleting it again"
                         if status == "DELETE_FAILED" else
                         "its first create failed; deleting it")
                self.log(f"Stack {name} is {status}" + (f" ({why})" if why else "")
                         + f": {story} so it can be created again.", Level.WARNING)
                self.delete_and_wait(stack_id)
            elif move == Move.CONTINUE_ROLLBACK:
                self.log(f"Stack {name} is UPDATE_ROLLBACK_FAILED; continuing the rollback so "
                         "it can be updated.", Level.WARNING)
                self.call("continue_update_rollback", StackName=stack_id)
                self.wait_until_settled(stack_id)
            else:
                raise EngineError(f"Stack {name} is {status}" + (f" ({why})" if why else "")
                                  + ". Resolve it in the CloudFormation console, then plan "
                                  "again.")
        raise EngineError(f"Stack {name} kept changing while it was prepared for a change set; "
                          "plan again.", retryable=True)

    def wait_until_settled(self, stack_id: str) -> None:
        deadline = time.monotonic() + settings.DEPLOY_CHANGE_SET_TIMEOUT
        while True:
            stack = self.describe_stack(stack_id)
            status = stack["StackStatus"] if stack else ""
            if next_move(status) != Move.WAIT:
                return
            if time.monotonic() > deadline:
                raise EngineError(f"Stack {self.d.stack_name} is still {status} after "
                                  f"{settings.DEPLOY_CHANGE_SET_TIMEOUT:.0f} s; plan again when "
                                  "CloudFormation has finished with it.", retryable=True)
            self.sleep()

    def delete_and_wait(self, stack_id: str) -> None:
        self.call("delete_stack", StackName=stack_id)
        deadline = time.monotonic() + settings.DEPLOY_CHANGE_SET_TIMEOUT
        while True:
            stack = self.describe_stack(stack_id)
            if stack is None or stack["StackStatus"] == "DELETE_COMPLETE":
                self.log(f"Deleted stack {self.d.stack_name}.")
                return
            if stack["StackStatus"] == "DELETE_FAILED":
                raise EngineError(f"Could not delete stack {self.d.stack_name}: "
                                  f"{stack.get('StackStatusReason', '')}. Delete it in the "
                                  "CloudFormation console (retaining what cannot be deleted), "
                                  "then plan again.")
            if time.monotonic() > deadline:
                raise EngineError(f"Stack {self.d.stack_name} was not deleted within "
                                  f"{settings.DEPLOY_CHANGE_SET_TIMEOUT:.0f} s; plan again "
                                  "when CloudFormation has finished.", retryable=True)
            self.sleep()

    def change_sets_of(self, stack_id: str) -> list[dict]:
        """The stack's change sets (some emulators ignore the filter, so it is applied again)."""

        def read(pages) -> list[dict]:
            return [s for page in pages for s in page.get("Summaries") or []
                    if s.get("StackId") == stack_id]

        try:
            return self.paged("list_change_sets", read, StackName=stack_id)
        except aws.AwsError as exc:
            if stack_missing(exc):
                return []
            raise

    def delete_change_set(self, change_set_id: str, name: str) -> None:
        try:
            self.call("delete_change_set", ChangeSetName=change_set_id)
        except aws.AwsError as exc:
            if change_set_missing(exc) or self.describe_change_set(change_set_id) is None:
                return  # someone else deleted it first
            raise
        self.log(f"Deleted change set {name}, which never ran.")

    def describe_change_set(self, change_set_id: str) -> dict | None:
        try:
            return self.call("describe_change_set", ChangeSetName=change_set_id)
        except aws.AwsError as exc:
            if change_set_missing(exc):
                return None
            raise

    def discard_change_set(self) -> None:
        """Delete this deployment's change set unless it ran, and with it its stack when that
        is left empty (REVIEW_IN_PROGRESS, no other change set)."""
        d = self.d
        described = self.describe_change_set(d.change_set_id)
        if described is None:
            return
        if described.get("ExecutionStatus", "").startswith("EXECUTE"):
            return  # it ran (or is running): the stack's history, not ours to delete
        stack_id = described.get("StackId") or ""
        self.delete_change_set(d.change_set_id, d.change_set_name)
        stack = self.describe_stack(stack_id) if stack_id else None
        if stack and stack["StackStatus"] == "REVIEW_IN_PROGRESS" and not self.change_sets_of(
                stack_id):
            self.log(f"Stack {d.stack_name} held only change sets that never ran "
                     "(REVIEW_IN_PROGRESS); deleting the empty stack.")
            self.delete_and_wait(stack_id)


def outputs_of(stack: dict | None) -> dict:
    if not stack:
        return {}
    return {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs") or []}
