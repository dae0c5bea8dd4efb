"""The state machine of a record: its kinds, its states, which state may follow which.

requested -> pr_open -> awaiting_gates -> merging -> reconciling -> deployed, and from live
states to failed, rejected, cancelled or expired. The merge is the point of no return: once a
record is merging, it can no longer be rejected or cancelled (the change is in the target
branch; undoing it is a rollback). A rollback that pushes revert commits itself (dev, or an
emergency on prod) goes from requested straight to merging. Nothing here does I/O.
"""

from __future__ import annotations

from enum import StrEnum

from slackbot.errors import InvalidTransition


class Kind(StrEnum):
    PROMOTION = "promotion"
    ROLLBACK = "rollback"
    HOTFIX = "hotfix"


class State(StrEnum):
    REQUESTED = "requested"
    PR_OPEN = "pr_open"
    AWAITING_GATES = "awaiting_gates"
    MERGING = "merging"
    RECONCILING = "reconciling"
    DEPLOYED = "deployed"
    FAILED = "failed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def live(self) -> bool:
        return self in LIVE_STATES

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


LIVE_STATES = frozenset(
    {State.REQUESTED, State.PR_OPEN, State.AWAITING_GATES, State.MERGING, State.RECONCILING}
)
FINAL_STATES = frozenset(State) - LIVE_STATES
BEFORE_MERGE = frozenset({State.REQUESTED, State.PR_OPEN, State.AWAITING_GATES})

_ENDS_BEFORE_MERGE = {State.FAILED, State.REJECTED, State.CANCELLED, State.EXPIRED}
_ENDS_AFTER_MERGE = {State.FAILED, State.EXPIRED}

TRANSITIONS: dict[State, frozenset[State]] = {
    State.REQUESTED: frozenset({State.PR_OPEN, *_ENDS_BEFORE_MERGE}),
    State.PR_OPEN: frozenset({State.AWAITING_GATES, *_ENDS_BEFORE_MERGE}),
    State.AWAITING_GATES: frozenset({State.MERGING, *_ENDS_BEFORE_MERGE}),
    State.MERGING: frozenset({State.RECONCILING, *_ENDS_AFTER_MERGE}),
    State.RECONCILING: frozenset({State.DEPLOYED, *_ENDS_AFTER_MERGE}),
    State.DEPLOYED: frozenset(),
    State.FAILED: frozenset(),
    State.REJECTED: frozenset(),
    State.CANCELLED: frozenset(),
    State.EXPIRED: frozenset(),
}

# Extra edges some kinds need: a direct revert has no pull request to wait on.
EXTRA: dict[Kind, dict[State, frozenset[State]]] = {
    Kind.ROLLBACK: {State.REQUESTED: frozenset({State.MERGING})},
}


def allowed(kind: Kind, current: State) -> frozenset[State]:
    return TRANSITIONS[current] | EXTRA.get(kind, {}).get(current, frozenset())


def check_transition(kind: Kind, current: State, target: State) -> None:
    """Raise InvalidTransition unless `current -> target` is legal for this kind."""
    if target not in allowed(kind, current):
        raise InvalidTransition(f"a {kind.value} cannot go from {current.value} to {target.value}")
