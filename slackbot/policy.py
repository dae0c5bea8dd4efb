"""Who may do what, written down: the access policy's values, its defaults, and its pure rules.

A `Role` names people: a Slack user group, an explicit list of user ids, or both (user groups
need a paid Slack plan; lists work on every plan). A `Rule` says which roles may take one
action, and in which channels; a `Policy` is one env's rules with every action written out
(`DEFAULT_RULES` fill in what the pipeline file leaves out). No I/O here: whether a user is in
a user group is the Directory port's answer (slackbot/engine/access.py asks it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from slackbot.reasons import Action

# Pseudo-roles: not people of their own, but a relation to what the action is on.
REQUESTER = "requester"  # whoever asked for the record (cancel it, write its rollback plan)
OWNER = "owner"  # whoever placed the freeze or the hold (lift it)
PSEUDO_ROLES: Mapping[str, frozenset[Action]] = {
    REQUESTER: frozenset({Action.CANCEL, Action.PLAN}),
    OWNER: frozenset({Action.UNFREEZE, Action.UNLOCK}),
}

# Channels of a rule: the app's own channels by their key in `channels`, or Slack channel ids.
DEPLOYS, INCIDENTS = "deploys", "incidents"

DEVELOPER, REVIEWER, STAKEHOLDER, ONCALL = "developer", "reviewer", "stakeholder", "oncall"
TEAM = (DEVELOPER, REVIEWER, STAKEHOLDER, ONCALL)

# The pipeline file's key of each action the policy rules. A retry has no key: it is
# authorized as the action it repeats (a request, or a hotfix's promotion).
ACCESS_KEYS: Mapping[Action, str] = {
    Action.REQUEST: "request",
    Action.APPROVE: "approve",
    Action.REJECT: "reject",
    Action.CANCEL: "cancel",
    Action.PLAN: "rollbackPlan",
    Action.FREEZE: "freeze",
    Action.UNFREEZE: "unfreeze",
    Action.ROLLBACK: "rollback",
    Action.EMERGENCY_ROLLBACK: "emergencyRollback",
    Action.HOTFIX_START: "hotfixStart",
    Action.HOTFIX_PROMOTE: "hotfixPromote",
    Action.UNLOCK: "unlock",
}
ACTIONS_BY_KEY: Mapping[str, Action] = {key: action for action, key in ACCESS_KEYS.items()}


@dataclass(frozen=True)
class Role:
    """People, by a Slack user group, an explicit list of user ids, or both (their union)."""

    name: str
    group: str | None = None  # a Slack user group id (S...)
    users: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    """Who may take one action (roles, pseudo-roles among them), and where (channels)."""

    roles: tuple[str, ...]
    channels: tuple[str, ...] = (DEPLOYS, INCIDENTS)


EVERYWHERE = (DEPLOYS, INCIDENTS)

# The safe reading of the workflow: the team (the four roles) promotes, writes rollback
# plans and rolls back with a revert through the env's gates; stakeholders approve and
# reject; freezes, holds and hotfixes are for stakeholders and on-call; an emergency
# rollback is on-call's alone, in the incident channel. Nobody outside a role may do
# anything but `help` and `status`.
DEFAULT_RULES: Mapping[Action, Rule] = {
    Action.REQUEST: Rule(TEAM),
    Action.APPROVE: Rule((STAKEHOLDER,)),
    Action.REJECT: Rule((STAKEHOLDER,)),
    Action.CANCEL: Rule((REQUESTER, STAKEHOLDER, ONCALL)),
    Action.PLAN: Rule((REQUESTER, DEVELOPER, STAKEHOLDER, ONCALL)),
    Action.FREEZE: Rule((STAKEHOLDER, ONCALL)),
    Action.UNFREEZE: Rule((OWNER, STAKEHOLDER, ONCALL)),
    Action.ROLLBACK: Rule(TEAM),
    Action.EMERGENCY_ROLLBACK: Rule((ONCALL,), (INCIDENTS,)),
    Action.HOTFIX_START: Rule((STAKEHOLDER, ONCALL)),
    Action.HOTFIX_PROMOTE: Rule((STAKEHOLDER, ONCALL)),
    Action.UNLOCK: Rule((OWNER, STAKEHOLDER, ONCALL)),
}


@dataclass(frozen=True)
class Policy:
    """One env's rules, one per action of ACCESS_KEYS (the defaults filled in)."""

    rules: Mapping[Action, Rule]

    def rule(self, action: Action) -> Rule:
        """The rule of `action` (a retry is asked as the action it repeats, never here)."""
        return self.rules[action]


DEFAULT_POLICY = Policy(dict(DEFAULT_RULES))


def channel_ids(rule: Rule, deploys: str, incidents: str) -> tuple[str, ...]:
    """The rule's channels as channel ids, the app's own named by their key."""
    names = {DEPLOYS: deploys, INCIDENTS: incidents}
    return tuple(dict.fromkeys(names.get(c, c) for c in rule.channels))


def in_channel(rule: Rule, channel: str | None, deploys: str, incidents: str) -> bool:
    """Whether the rule allows `channel` (None: a caller without one, such as the CLI)."""
    return channel is None or channel in channel_ids(rule, deploys, incidents)


def by_relation(rule: Rule, user: str, requester: str | None, owner: str | None) -> bool:
    """Whether a pseudo-role of the rule names `user` (the requester, or the owner)."""
    return ((REQUESTER in rule.roles and requester is not None and user == requester)
            or (OWNER in rule.roles and owner is not None and user == owner))


def named_users(rule: Rule, roles: Mapping[str, Role], user: str) -> bool:
    """Whether `user` is on the explicit list of one of the rule's roles (no I/O)."""
    return any(user in roles[name].users for name in rule.roles if name in roles)


def groups_of(rule: Rule, roles: Mapping[str, Role]) -> tuple[str, ...]:
    """The Slack user groups whose members the rule allows, in the rule's order."""
    groups = (roles[name].group for name in rule.roles if name in roles)
    return tuple(dict.fromkeys(g for g in groups if g))
