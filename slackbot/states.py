"""The state machine of a promotion record: which state may follow which, and nothing else.

requested -> pr_open -> awaiting_gates -> merging -> reconciling -> deployed, and from live
states to failed, rejected, cancelled or expired. The merge is the point of no return: once a
record is merging, it can no longer be rejected or cancelled (the change is in the target
branch; undoing it is a rollback). A rollback that pushes revert commits itself (dev, or an
emergency on prod) goes from requested straight to merging.
"""

from __future__ import annotations

from slackbot.errors import InvalidTransition
from slackbot.models import Kind, State

_BEFORE_MERGE = {State.FAILED, State.REJECTED, State.CANCELLED, State.EXPIRED}
_AFTER_MERGE = {State.FAILED, State.EXPIRED}

TRANSITIONS: dict[State, frozenset[State]] = {
    State.REQUESTED: frozenset({State.PR_OPEN, *_BEFORE_MERGE}),
    State.PR_OPEN: frozenset({State.AWAITING_GATES, *_BEFORE_MERGE}),
    State.AWAITING_GATES: frozenset({State.MERGING, *_BEFORE_MERGE}),
    State.MERGING: frozenset({State.RECONCILING, *_AFTER_MERGE}),
    State.RECONCILING: frozenset({State.DEPLOYED, *_AFTER_MERGE}),
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
