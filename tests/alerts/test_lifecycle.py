"""The incident lifecycle alone: plain values in, one step out."""

from datetime import UTC, datetime, timedelta

from alerts.findings import Finding
from alerts.lifecycle import OPEN, PENDING, Known, step

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def seen(n: int) -> datetime:
    return NOW + timedelta(seconds=30 * n)


def finding(present, n=1, confirm=2, clear=2, ripe=True, notice_only=False) -> Finding:
    return Finding(application_id=1, event="region_unhealthy", subject="eu-west-1",
                   present=present, summary="words", seen=seen(n), confirm=confirm, clear=clear,
                   ripe=ripe, notice_only=notice_only)


def test_a_first_bad_poll_makes_a_pending_incident_and_no_message():
    result = step(None, finding(True), NOW, quiet=False)
    assert (result.action, result.changes["status"], result.notice) == ("create", PENDING, None)


def test_the_second_bad_poll_opens_it_with_a_message():
    known = Known(PENDING, 1, seen(1), announced=False)
    result = step(known, finding(True, n=2), NOW, quiet=False)
    assert result.changes["status"] == OPEN and result.notice == "opened"


def test_the_same_poll_read_twice_counts_once():
    known = Known(PENDING, 1, seen(1), announced=False)
    assert step(known, finding(True, n=1), NOW, quiet=False).action == "none"


def test_a_pending_incident_that_clears_is_dropped_unsent():
    known = Known(PENDING, 1, seen(1), announced=False)
    assert step(known, finding(False, n=2), NOW, quiet=False).action == "drop"


def test_a_maintenance_window_opens_it_without_a_message():
    known = Known(PENDING, 1, seen(1), announced=False)
    result = step(known, finding(True, n=2), NOW, quiet=True)
    assert result.changes["status"] == OPEN and result.changes["was_suppressed"]
    assert result.notice is None


def test_a_held_incident_is_told_when_the_window_is_over_and_the_problem_remains():
    known = Known(OPEN, 0, seen(2), announced=False)
    assert step(known, finding(True, n=3), NOW, quiet=False).notice == "opened"


def test_a_held_incident_that_recovers_ends_without_any_message():
    known = Known(OPEN, 1, seen(2), announced=False)
    result = step(known, finding(False, n=3), NOW, quiet=True)
    assert result.changes["status"] == "resolved" and result.notice is None


def test_recovery_needs_as_many_good_polls_and_a_bad_one_starts_the_count_again():
    known = Known(OPEN, 0, seen(2), announced=True)
    first = step(known, finding(False, n=3), NOW, quiet=False)
    assert first.changes == {"confirmations": 1, "observed_at": seen(3)}
    again = step(Known(OPEN, 1, seen(3), True), finding(True, n=4), NOW, quiet=False)
    assert again.changes == {"confirmations": 0}
    done = step(Known(OPEN, 1, seen(3), True), finding(False, n=4), NOW, quiet=False)
    assert done.changes["status"] == "resolved" and done.notice == "resolved"


def test_no_evidence_changes_nothing():
    known = Known(OPEN, 0, seen(2), announced=True)
    assert step(known, finding(None, n=5), NOW, quiet=False).action == "none"


def test_a_problem_not_lasting_long_enough_yet_is_not_an_incident():
    assert step(None, finding(True, ripe=False), NOW, quiet=False).action == "none"


def test_a_one_off_notice_is_created_resolved_and_told():
    result = step(None, finding(True, notice_only=True), NOW, quiet=False)
    assert result.changes["status"] == "resolved" and result.notice == "notice"


def test_a_subject_that_is_gone_closes_what_was_told():
    result = step(Known(OPEN, 0, seen(1), True), None, NOW, quiet=False)
    assert result.changes["status"] == "resolved" and result.notice == "resolved"
    assert step(Known(PENDING, 1, seen(1), False), None, NOW, quiet=False).action == "drop"
