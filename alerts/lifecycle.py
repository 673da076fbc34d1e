"""The life of an incident, as a pure function: given what is known of it and what the stored
state says now, what changes and which message goes out. Tested alone; evaluate.py applies it.

    none ──present & ripe──▶ pending ──N observations──▶ open ──N clear observations──▶ resolved
                               │ clear before N: dropped unsent (flap damping)
    open while a maintenance window covers it: held (suppressed); told when the window ends if
    the problem is still there, never if it recovered meanwhile."""

from dataclasses import dataclass, field
from datetime import datetime

from .findings import Finding

PENDING, OPEN, RESOLVED = "pending", "open", "resolved"


@dataclass(frozen=True)
class Known:
    """What the database holds about a live incident."""

    status: str
    confirmations: int
    observed_at: datetime | None
    announced: bool


@dataclass
class Step:
    action: str = "none"  # none, create, update, drop
    changes: dict = field(default_factory=dict)
    notice: str | None = None  # opened, resolved or notice


def _new_observation(known: Known, finding: Finding) -> bool:
    return finding.seen is not None and (known.observed_at is None
                                         or finding.seen > known.observed_at)


def _open(now: datetime, quiet: bool) -> tuple[dict, str | None]:
    changes = {"status": OPEN, "opened_at": now, "confirmations": 0}
    if quiet:
        return {**changes, "was_suppressed": True}, None
    return {**changes, "announced_at": now}, "opened"


def step(known: Known | None, finding: Finding | None, now: datetime, quiet: bool) -> Step:
    """quiet: a maintenance window covers the finding now."""
    if finding is None:  # the subject is gone: what was told is closed
        if known is None:
            return Step()
        if known.status == PENDING:
            return Step("drop")
        return Step("update", {"status": RESOLVED, "resolved_at": now,
                               "recovery": "no longer watched: the region or the rollout is "
                                           "gone from the inventory"},
                    "resolved" if known.announced else None)
    if known is None:
        if not (finding.present and finding.ripe):
            return Step()
        if finding.notice_only:
            return Step("create", {"status": RESOLVED, "opened_at": now, "resolved_at": now,
                                   "announced_at": now}, "notice")
        base = {"status": PENDING, "confirmations": 1, "observed_at": finding.seen}
        if finding.confirm > 1:
            return Step("create", base)
        changes, notice = _open(now, quiet)
        return Step("create", {**base, **changes}, notice)
    if finding.present is None:
        return Step()
    fresh = _new_observation(known, finding)
    if known.status == PENDING:
        if not finding.present:
            return Step("drop")
        if not fresh:
            return Step()
        count = known.confirmations + 1
        if count < finding.confirm:
            return Step("update", {"confirmations": count, "observed_at": finding.seen})
        changes, notice = _open(now, quiet)
        return Step("update", {**changes, "observed_at": finding.seen}, notice)
    if finding.present:
        # An interrupted recovery starts counting again; otherwise nothing to write.
        changes = {"confirmations": 0} if known.confirmations else {}
        if not known.announced and not quiet:
            return Step("update", {**changes, "announced_at": now}, "opened")
        return Step("update", changes) if changes else Step()
    if not fresh:
        return Step()
    count = known.confirmations + 1
    if count < finding.clear:
        return Step("update", {"confirmations": count, "observed_at": finding.seen})
    return Step("update", {"status": RESOLVED, "resolved_at": now, "confirmations": count,
                           "observed_at": finding.seen, "recovery": finding.summary},
                "resolved" if known.announced else None)
