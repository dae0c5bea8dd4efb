"""The audit trail's vocabulary: every kind of event, each with its own typed facts.

An `Event` says what happened to which record (or env), who did it and when; its `facts` are
one of the small dataclasses below, chosen by its kind. The store keeps events in Redis
streams; the Slack edge renders them (the card's timeline, thread replies) by matching on the
facts' type, so nothing ever parses text the core wrote. No prose here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar

from slackbot.models import GateResult
from slackbot.progress import Pods, Progress
from slackbot.reasons import Reason


class EventKind(StrEnum):
    REQUESTED = "requested"
    PR_OPENED = "pr_opened"
    AWAITING_GATES = "awaiting_gates"
    GATES = "gates"
    APPROVED = "approved"
    ROLLBACK_PLAN = "rollback_plan"
    HEAD_MOVED = "head_moved"
    MERGE_SCHEDULED = "merge_scheduled"
    GATES_PASSED = "gates_passed"
    MERGING = "merging"
    MERGED = "merged"
    REVERTING = "reverting"
    REVERTED = "reverted"
    PROGRESS = "progress"
    DEPLOYED = "deployed"
    FAILED = "failed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    HOLD = "hold"
    HOLD_KEPT = "hold_kept"
    SYNCED = "synced"
    SYNC_CONFLICT = "sync_conflict"
    SYNC_FAILED = "sync_failed"
    FROZEN = "frozen"
    UNFROZEN = "unfrozen"
    UNLOCKED = "unlocked"
    HOTFIX_STARTED = "hotfix_started"
    REMINDED = "reminded"
    ESCALATED = "escalated"
    QUEUED = "queued"
    LEFT_QUEUE = "left_queue"
    FROM_QUEUE = "from_queue"
    QUEUE_REFUSED = "queue_refused"


@dataclass(frozen=True)
class Facts:
    """The base of every event's facts; KIND names the event kind it belongs to."""

    KIND: ClassVar[EventKind]


@dataclass(frozen=True)
class Requested(Facts):
    KIND = EventKind.REQUESTED
    sha: str | None = None  # the head being promoted (None: a rollback's revert is made later)


@dataclass(frozen=True)
class PullOpened(Facts):
    KIND = EventKind.PR_OPENED
    number: int
    url: str
    adopted: bool = False  # an open pull request of the same branches was reused


@dataclass(frozen=True)
class AwaitingGates(Facts):
    KIND = EventKind.AWAITING_GATES
    results: tuple[GateResult, ...] = ()


@dataclass(frozen=True)
class GatesChanged(Facts):
    KIND = EventKind.GATES
    results: tuple[GateResult, ...] = ()


@dataclass(frozen=True)
class Approved(Facts):
    KIND = EventKind.APPROVED
    sha: str


@dataclass(frozen=True)
class PlanWritten(Facts):
    KIND = EventKind.ROLLBACK_PLAN
    plan: str


@dataclass(frozen=True)
class HeadMoved(Facts):
    KIND = EventKind.HEAD_MOVED
    old: str
    new: str
    voided: tuple[str, ...] = ()  # approvers whose approval no longer counts


@dataclass(frozen=True)
class MergeScheduled(Facts):
    KIND = EventKind.MERGE_SCHEDULED
    at: datetime


@dataclass(frozen=True)
class GatesPassed(Facts):
    KIND = EventKind.GATES_PASSED


@dataclass(frozen=True)
class Merging(Facts):
    KIND = EventKind.MERGING
    sha: str | None = None


@dataclass(frozen=True)
class Merged(Facts):
    KIND = EventKind.MERGED
    sha: str  # the merge commit


@dataclass(frozen=True)
class Reverting(Facts):
    KIND = EventKind.REVERTING
    target: str


@dataclass(frozen=True)
class Reverted(Facts):
    KIND = EventKind.REVERTED
    sha: str  # the revert commit on the branch


@dataclass(frozen=True)
class Progressed(Facts):
    KIND = EventKind.PROGRESS
    progress: Progress


@dataclass(frozen=True)
class Deployed(Facts):
    KIND = EventKind.DEPLOYED
    revision: str
    pods: tuple[Pods, ...] = ()


@dataclass(frozen=True)
class Failed(Facts):
    KIND = EventKind.FAILED
    reason: Reason


@dataclass(frozen=True)
class Rejected(Facts):
    KIND = EventKind.REJECTED
    reason: str


@dataclass(frozen=True)
class Cancelled(Facts):
    KIND = EventKind.CANCELLED


@dataclass(frozen=True)
class Expired(Facts):
    KIND = EventKind.EXPIRED
    after: timedelta


@dataclass(frozen=True)
class HoldPlaced(Facts):
    KIND = EventKind.HOLD
    reason: str = ""


@dataclass(frozen=True)
class HoldKept(Facts):
    """A rollback started while its env was already on hold by someone else: that hold stays
    theirs (a hold is only replaced by its owner)."""

    KIND = EventKind.HOLD_KEPT
    by: str
    record: int | None = None  # the rollback that placed it


@dataclass(frozen=True)
class Synced(Facts):
    """A branch below got the deployed change (a sync after a promotion, a backport after a
    hotfix): merged as `sha`, or nothing to merge."""

    KIND = EventKind.SYNCED
    base: str
    head: str
    sha: str | None = None
    backport: bool = False


@dataclass(frozen=True)
class SyncConflict(Facts):
    KIND = EventKind.SYNC_CONFLICT
    base: str
    head: str
    pull: int | None = None  # the pull request opened to resolve it (None: could not open)
    url: str | None = None
    backport: bool = False


@dataclass(frozen=True)
class SyncFailed(Facts):
    KIND = EventKind.SYNC_FAILED
    base: str
    head: str
    backport: bool = False


@dataclass(frozen=True)
class Frozen(Facts):
    KIND = EventKind.FROZEN
    reason: str


@dataclass(frozen=True)
class Unfrozen(Facts):
    KIND = EventKind.UNFROZEN


@dataclass(frozen=True)
class Unlocked(Facts):
    KIND = EventKind.UNLOCKED


@dataclass(frozen=True)
class HotfixStarted(Facts):
    KIND = EventKind.HOTFIX_STARTED
    branch: str
    sha: str
    base: str  # the branch it was cut from


@dataclass(frozen=True)
class Reminded(Facts):
    """The record waited `after` for its gates: the approvers in `users`, who have not
    answered, are asked (in the card's thread, and each directly)."""

    KIND = EventKind.REMINDED
    after: timedelta
    users: tuple[str, ...] = ()


@dataclass(frozen=True)
class Escalated(Facts):
    """The record waited `after`: the escalation group is told, and each of `users` in it."""

    KIND = EventKind.ESCALATED
    after: timedelta
    group: str
    users: tuple[str, ...] = ()


@dataclass(frozen=True)
class Queued(Facts):
    """On the live record of an env: `user`'s request waits behind it, at `position`."""

    KIND = EventKind.QUEUED
    user: str
    position: int


@dataclass(frozen=True)
class LeftQueue(Facts):
    KIND = EventKind.LEFT_QUEUE
    user: str


@dataclass(frozen=True)
class FromQueue(Facts):
    """On a record started from the queue: asked for at `queued_at`, behind `behind`."""

    KIND = EventKind.FROM_QUEUE
    queued_at: datetime
    behind: int | None = None  # the record it waited for


@dataclass(frozen=True)
class QueueRefused(Facts):
    """On the record that freed the env: `user`'s queued request could not start, `reason`."""

    KIND = EventKind.QUEUE_REFUSED
    user: str
    reason: Reason


FACTS: dict[EventKind, type[Facts]] = {
    cls.KIND: cls
    for cls in (
        Requested, PullOpened, AwaitingGates, GatesChanged, Approved, PlanWritten, HeadMoved,
        MergeScheduled, GatesPassed, Merging, Merged, Reverting, Reverted, Progressed, Deployed,
        Failed, Rejected, Cancelled, Expired, HoldPlaced, HoldKept, Synced, SyncConflict,
        SyncFailed,
        Frozen, Unfrozen, Unlocked, HotfixStarted,
        Reminded, Escalated, Queued, LeftQueue, FromQueue, QueueRefused,
    )
}


@dataclass(frozen=True)
class Event:
    """One line of the audit trail: what happened to which record, who did it, when."""

    promotion_id: int | None
    app: str
    env: str
    actor: str
    at: datetime
    facts: Facts

    @property
    def kind(self) -> EventKind:
        return self.facts.KIND
