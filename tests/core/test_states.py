"""Every transition of the state machine, legal and illegal, for every kind."""

from __future__ import annotations

import itertools

import pytest

from slackbot.errors import InvalidTransition
from slackbot.models import FINAL_STATES, LIVE_STATES, Kind, State
from slackbot.states import allowed, check_transition

S = State
LEGAL = {
    (S.REQUESTED, S.PR_OPEN), (S.PR_OPEN, S.AWAITING_GATES), (S.AWAITING_GATES, S.MERGING),
    (S.MERGING, S.RECONCILING), (S.RECONCILING, S.DEPLOYED),
    *((s, t) for s in (S.REQUESTED, S.PR_OPEN, S.AWAITING_GATES)
      for t in (S.FAILED, S.REJECTED, S.CANCELLED, S.EXPIRED)),
    *((s, t) for s in (S.MERGING, S.RECONCILING) for t in (S.FAILED, S.EXPIRED)),
}
ROLLBACK_ONLY = {(S.REQUESTED, S.MERGING)}


def expected_legal(kind: Kind) -> set[tuple[State, State]]:
    return LEGAL | (ROLLBACK_ONLY if kind is Kind.ROLLBACK else set())


@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.parametrize("current,target", list(itertools.product(State, State)))
def test_transition_is_legal_exactly_when_the_design_says(
    kind: Kind, current: State, target: State
) -> None:
    if (current, target) in expected_legal(kind):
        check_transition(kind, current, target)
    else:
        with pytest.raises(InvalidTransition, match=f"from {current.value} to {target.value}"):
            check_transition(kind, current, target)


def test_final_states_lead_nowhere() -> None:
    for kind in Kind:
        for state in FINAL_STATES:
            assert allowed(kind, state) == frozenset()


def test_every_live_state_can_fail_or_expire() -> None:
    for state in LIVE_STATES:
        assert {S.FAILED, S.EXPIRED} <= allowed(Kind.PROMOTION, state)


def test_nothing_is_rejected_or_cancelled_after_the_merge() -> None:
    for state in (S.MERGING, S.RECONCILING):
        assert S.REJECTED not in allowed(Kind.PROMOTION, state)
        assert S.CANCELLED not in allowed(Kind.PROMOTION, state)
