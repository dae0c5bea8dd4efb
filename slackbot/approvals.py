"""Counting Slack approvals against an env's approvers: a quorum of distinct people and, when
the env asks for it, a share from each of several groups (one from product, two from SRE).

A person fills at most one group's share, so "one from each" always means different people:
the shares are filled by a matching of approvers to places (augmenting paths; the numbers
are small). Pure functions over values: who belongs to which group is gathered beforehand
(the approval records it), and nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from slackbot.models import GroupCount
from slackbot.pipeline import Approvers


@dataclass(frozen=True)
class Tally:
    """Where the approvals of one head stand against the rule."""

    have: int  # distinct approvers
    need: int  # the quorum
    groups: tuple[GroupCount, ...] = ()

    @property
    def passed(self) -> bool:
        return self.have >= self.need and all(g.have >= g.need for g in self.groups)

    @property
    def filled(self) -> int:
        return sum(g.have for g in self.groups)

    @property
    def progress(self) -> int:
        """How far toward passing: shares filled, plus approvals beyond them the quorum still
        counts (passing is max(quorum, shares))."""
        shares = sum(g.need for g in self.groups)
        return self.filled + min(self.have - self.filled, max(0, self.need - shares))


def tally(rule: Approvers, approvers: Sequence[str],
          groups_of: Mapping[str, Sequence[str]]) -> Tally:
    """`approvers`: distinct users, in approval order; `groups_of`: each one's groups."""
    places = [group for group, count in rule.at_least for _ in range(count)]
    taken = _match(places, approvers, groups_of)
    counts = tuple(
        GroupCount(group, sum(1 for place, user in taken.items() if places[place] == group
                              and user is not None), count)
        for group, count in rule.at_least
    )
    return Tally(len(approvers), rule.quorum, counts)


def helps(rule: Approvers, approvers: Sequence[str], groups_of: Mapping[str, Sequence[str]],
          user: str, groups: Sequence[str]) -> bool:
    """Would `user` (a member of `groups`) approving move the approvals on?"""
    now = tally(rule, approvers, groups_of)
    if now.passed or user in approvers:
        return False
    after = tally(rule, (*approvers, user), {**groups_of, user: groups})
    return after.progress > now.progress


def _match(places: list[str], users: Sequence[str],
           groups_of: Mapping[str, Sequence[str]]) -> dict[int, str | None]:
    """A maximum matching of users to places (a place names the group it needs)."""
    owner: dict[int, str | None] = dict.fromkeys(range(len(places)))

    def seat(user: str, seen: set[int]) -> bool:
        for place, group in enumerate(places):
            if group not in groups_of.get(user, ()) or place in seen:
                continue
            seen.add(place)
            holder = owner[place]
            if holder is None or seat(holder, seen):
                owner[place] = user
                return True
        return False

    for user in users:
        seat(user, set())
    return owner
