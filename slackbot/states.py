"""The state machine of a record: its kinds, its states, which state may follow which.

requested -> pr_open -> awaiting_gates -> merging -> reconciling -> deployed, and from live
states to failed, rejected, cancelled or expired. The merge is the point of no return: once a
record is merging, it can no longer be rejected or cancelled (the change is in the target
branch; undoing it is a rollback). A rollback that pushes revert commits itself (dev, or an
emergency on prod) goes from requested straight to merging. Nothing here does I/O.

One edge leaves a final state: failed -> deployed, "recovered". Flux keeps retrying a
revision after a timeout or a failed health check; when it later applies the merged revision
Ready, the record is deployed after all (it keeps its failure, to say what it recovered from).
The edge is legal only for a record that merged (`merged=True`: its change is in the branch);
one that failed before its merge never deploys. It is a compare-and-set like every other write,
so a recovery and a new command on the record cannot both win.
"""

from __future__ import annotations

from enum import StrEnum

from slackbot.errors import InvalidTransition


class Kind(StrEnum):
    PROMOTION = "promotion"
    ROLLBACK = "rollback"
    HOTFIX = "hotfix"

    @property
    def letter(self) -> str:
        """The prefix of a record's name: P-12, R-3, H-2 (never "#12", a pull request's)."""
        return {"promotion": "P", "rollback": "R", "hotfix": "H"}[self.value]


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


# A merged record that failed and then deployed after all (see the module docstring).
RECOVERED: dict[State, frozenset[State]] = {State.FAILED: frozenset({State.DEPLOYED})}


def allowed(kind: Kind, current: State, merged: bool = False) -> frozenset[State]:
    edges = TRANSITIONS[current] | EXTRA.get(kind, {}).get(current, frozenset())
    return edges | RECOVERED.get(current, frozenset()) if merged else edges


def check_transition(kind: Kind, current: State, target: State, merged: bool = False) -> None:
    """Raise InvalidTransition unless `current -> target` is legal for this kind (`merged`: the
    record's change is in its target branch)."""
    if target not in allowed(kind, current, merged):
        raise InvalidTransition(f"a {kind.value} cannot go from {current.value} to {target.value}")
