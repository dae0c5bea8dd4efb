"""The domain values the engine works with: records (promotions, rollbacks, hotfixes), gate
results, approvals, freezes and holds.

Frozen dataclasses; the store turns them into JSON and back through slackbot/codec.py. No I/O
here, no prose, and no Slack, GitHub or Kubernetes words beyond the domain's own (a pull
request, a revision).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from slackbot.changes import Changes
from slackbot.outside import Outside
from slackbot.progress import Progress
from slackbot.reasons import Reason
from slackbot.states import BEFORE_MERGE, FINAL_STATES, LIVE_STATES, Kind, State

__all__ = [
    "BEFORE_MERGE",
    "FINAL_STATES",
    "LIVE_STATES",
    "Approval",
    "Block",
    "BlockKind",
    "GateNote",
    "GateResult",
    "GateStatus",
    "GroupCount",
    "HotfixSpec",
    "Kind",
    "Promotion",
    "QueueEntry",
    "Rejection",
    "RevertMode",
    "RollbackSpec",
    "State",
    "record_name",
]


def record_name(kind: Kind | None, number: int | None) -> str:
    """A record's name, everywhere it is shown or written: P-12, R-3, H-2. One counter numbers
    every record, so the number alone is unique and a wrong letter is caught, never obeyed;
    `#12` stays a pull request's name, as GitHub reads it."""
    return f"{(kind or Kind.PROMOTION).letter}-{number}"


class GateStatus(StrEnum):
    PASSED = "passed"
    PENDING = "pending"
    FAILED = "failed"


class GateNote(StrEnum):
    """Why a gate stands where it does (with the facts on the result)."""

    SOURCE_RUNS_HEAD = "source_runs_head"
    SOURCE_BEHIND = "source_behind"
    SOURCE_NOT_READY = "source_not_ready"
    SOURCE_UNKNOWN = "source_unknown"
    CHECK_PASSED = "check_passed"
    CHECK_FAILED = "check_failed"
    CHECK_RUNNING = "check_running"
    CHECK_MISSING = "check_missing"
    REVIEWS_COUNTED = "reviews_counted"
    REVIEWS_REQUESTER_UNKNOWN = "reviews_requester_unknown"  # counted, but whose own is unknown
    CHANGES_REQUESTED = "changes_requested"
    APPROVALS_COUNTED = "approvals_counted"
    PLAN_WRITTEN = "plan_written"
    PLAN_NEEDED = "plan_needed"
    WINDOW_OPEN = "window_open"
    WINDOW_CLOSED = "window_closed"


@dataclass(frozen=True)
class GroupCount:
    """Approvals counted toward one group's share of an env's approvers (gates.approvers)."""

    group: str  # a user group id
    have: int
    need: int


@dataclass(frozen=True)
class GateResult:
    """One named gate's verdict, valid only for the commit it was computed on."""

    name: str
    status: GateStatus
    sha: str
    note: GateNote
    have: int = 0  # reviews or approvals counted
    need: int = 0
    who: tuple[str, ...] = ()  # who approved, or who requested changes
    env: str | None = None  # the source env (source gate)
    check: str | None = None  # the check's name (check gates)
    message: str = ""  # Flux's words (source gate)
    opens: datetime | None = None  # the next change window (window gate)
    until: datetime | None = None  # how long the source is waited for (source gate)
    root: str | None = None  # the env at the root of the source's dependsOn chain, not Ready
    flux_reason: str | None = None  # Flux's reason (the root's, when there is one)
    groups: tuple[GroupCount, ...] = ()  # approvals per group, when the env asks for them

    @property
    def passed(self) -> bool:
        return self.status is GateStatus.PASSED


@dataclass(frozen=True)
class Approval:
    user: str
    sha: str
    at: datetime
    groups: tuple[str, ...] = ()  # the per-group shares the approver could fill, when approving


@dataclass(frozen=True)
class Rejection:
    user: str
    reason: str
    at: datetime


class RevertMode(StrEnum):
    DIRECT = "direct"  # revert commits pushed to the branch itself (dev, emergencies on prod)
    PULL = "pull"  # a revert pull request through the env's gates


@dataclass(frozen=True)
class RollbackSpec:
    """What a rollback returns its env to, and how."""

    mode: RevertMode
    target: str  # the sha whose content the env returns to
    target_subject: str  # its commit subject, as the branch history shows it
    from_head: str  # the branch head when the rollback was asked for
    emergency: bool = False
    reason: str = ""  # the person's words
    asked_env: str | None = None  # the env asked for, when the revert lands on a lower one
    undoes: int | None = None  # the rollback whose revert this re-applies (/rollback undo)
    # With `base`, the revert is the change from `base` to `target` applied onto the branch
    # (a revert landing on a lower env, an undo); without, the branch takes `target`'s tree.
    base: str | None = None


@dataclass(frozen=True)
class HotfixSpec:
    name: str  # the branch is hotfix/<name>


@dataclass(frozen=True)
class Promotion:
    """The record of one promotion, rollback or hotfix; the store keeps it, versioned."""

    id: int
    kind: Kind
    app: str
    env: str  # the target env
    source_branch: str  # what is merged into the target branch
    target_branch: str
    requested_by: str
    requested_at: datetime
    state: State = State.REQUESTED
    version: int = 0
    source_env: str | None = None
    head_sha: str | None = None  # the pinned commit being promoted
    pr_number: int | None = None
    pr_url: str | None = None
    merge_sha: str | None = None
    merged_at: datetime | None = None
    reconcile_token: str | None = None
    approvals: tuple[Approval, ...] = ()
    voided: tuple[str, ...] = ()  # approvers of an earlier head, shown while it is live
    rejection: Rejection | None = None
    rollback_plan: str | None = None
    gates: tuple[GateResult, ...] = ()
    merge_not_before: datetime | None = None  # set while the change window is closed
    progress: Progress | None = None  # what Flux shows while the merge is applied
    failure: Reason | None = None
    finished_at: datetime | None = None
    updated_at: datetime | None = None
    rollback: RollbackSpec | None = None
    hotfix: HotfixSpec | None = None
    outside: Outside | None = None  # an outside service holding it up right now (the card says)
    channel: str | None = None  # where it was asked for (a rollback's or hotfix's card goes there)
    recovered_at: datetime | None = None  # failed, then Flux applied it Ready after all
    source_until: datetime | None = None  # the source env, reconciling the head, waited for
    reminded_at: datetime | None = None  # the approvers were reminded (slackbot/engine/timers.py)
    escalated_at: datetime | None = None  # the waiting was escalated
    deployment_id: int | None = None  # its GitHub Deployment (slackbot/engine/writeback.py)
    first_commit_at: datetime | None = None  # its oldest commit's time, for the lead time
    changes: Changes | None = None  # the commits of the pinned head (slackbot/changes.py)

    @property
    def live(self) -> bool:
        return self.state.live

    @property
    def name(self) -> str:
        return record_name(self.kind, self.id)

    @property
    def merged(self) -> bool:
        """Its change is in the target branch (a merge or a pushed revert happened)."""
        return self.merge_sha is not None

    @property
    def short_sha(self) -> str:
        return (self.head_sha or "")[:7]

    @property
    def direct(self) -> bool:
        """A rollback that pushes its revert to the branch itself (no pull request)."""
        return self.rollback is not None and self.rollback.mode is RevertMode.DIRECT

    @property
    def expected_revision(self) -> str | None:
        """The Flux revision the target env must apply: `<branch>@sha1:<merge sha>`."""
        return f"{self.target_branch}@sha1:{self.merge_sha}" if self.merge_sha else None

    def approvers(self, sha: str | None = None) -> tuple[str, ...]:
        """Distinct users who approved the given head (default: the pinned head)."""
        wanted = sha or self.head_sha
        seen: list[str] = []
        for approval in self.approvals:
            if approval.sha == wanted and approval.user not in seen:
                seen.append(approval.user)
        return tuple(seen)

    def gate(self, name: str) -> GateResult | None:
        return next((g for g in self.gates if g.name == name), None)

    def replace(self, **changes: Any) -> Promotion:
        return dataclasses.replace(self, **changes)


class BlockKind(StrEnum):
    FREEZE = "freeze"
    HOLD = "hold"


@dataclass(frozen=True)
class Block:
    """A freeze or a hold on an env: promotions into it are refused until it is lifted."""

    kind: BlockKind
    app: str
    env: str
    by: str
    reason: str
    at: datetime
    record: int | None = None  # the rollback that placed a hold
    target: str | None = None  # the revision that rollback returns the env to


@dataclass(frozen=True)
class QueueEntry:
    """A request for an env that had a live record: it starts by itself, in turn, once the env
    is free (slackbot/engine/queueing.py). One per person and env; `seq` orders the line."""

    app: str
    env: str
    user: str
    at: datetime
    source: str | None = None
    channel: str | None = None
    seq: int = 0  # given by the store: the lower, the sooner
