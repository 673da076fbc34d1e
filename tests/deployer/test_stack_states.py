"""What each CloudFormation stack status allows before a change set (a pure table)."""

import pytest

from deployer.cloudformation.stacks import Move, next_move


@pytest.mark.parametrize(("status", "move"), [
    ("", Move.CREATE),
    ("DELETE_COMPLETE", Move.CREATE),
    ("REVIEW_IN_PROGRESS", Move.DISCARD),
    ("ROLLBACK_COMPLETE", Move.RECREATE),
    ("ROLLBACK_FAILED", Move.RECREATE),
    ("CREATE_FAILED", Move.RECREATE),
    ("DELETE_FAILED", Move.RECREATE),
    ("CREATE_COMPLETE", Move.UPDATE),
    ("UPDATE_COMPLETE", Move.UPDATE),
    ("UPDATE_ROLLBACK_COMPLETE", Move.UPDATE),
    ("UPDATE_FAILED", Move.UPDATE),
    ("IMPORT_COMPLETE", Move.UPDATE),
    ("IMPORT_ROLLBACK_COMPLETE", Move.UPDATE),
    ("UPDATE_ROLLBACK_FAILED", Move.CONTINUE_ROLLBACK),
    ("CREATE_IN_PROGRESS", Move.WAIT),
    ("UPDATE_IN_PROGRESS", Move.WAIT),
    ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", Move.WAIT),
    ("UPDATE_ROLLBACK_IN_PROGRESS", Move.WAIT),
    ("ROLLBACK_IN_PROGRESS", Move.WAIT),
    ("DELETE_IN_PROGRESS", Move.WAIT),
    ("IMPORT_IN_PROGRESS", Move.WAIT),
    ("IMPORT_ROLLBACK_FAILED", Move.BLOCKED),
])
def test_each_stack_status_leads_to_the_move_cloudformation_documents(status, move):
    assert next_move(status) is move

