"""Who may approve a promotion in Slack, and who it still waits on.

The env's approvers (gates.approvers; in the short form, the people of the roles the access
policy lets approve) are members of its groups and its named users; the requester never
approves their own. When the env counts a share per group, an approval records which of those
groups its author belongs to, so the gate (slackbot/gates.py) counts from the record alone.
Reminders ask only the people whose approval would move the record on. Membership comes from
the Directory port.
"""

from __future__ import annotations

from slackbot import approvals
from slackbot.engine.lookup import Lookup
from slackbot.models import Promotion
from slackbot.pipeline import Approvers
from slackbot.policy import groups_of
from slackbot.ports import Directory
from slackbot.reasons import Action


class Approving:
    def __init__(self, lookup: Lookup, directory: Directory):
        self._lookup = lookup
        self._directory = directory

    def rule(self, record: Promotion) -> Approvers:
        app, env = self._lookup.app_env(record.app, record.env)
        if env.gates.approvers is not None:
            return env.gates.approvers
        allowed = env.access.rule(Action.APPROVE)
        users = (u for name in allowed.roles if name in app.roles for u in app.roles[name].users)
        return Approvers(groups=groups_of(allowed, app.roles), users=tuple(dict.fromkeys(users)),
                         quorum=env.gates.stakeholder_approvals)

    def may_approve(self, record: Promotion, user: str) -> bool:
        """One of the env's approvers (the requester included: the rules refuse them)."""
        rule = self.rule(record)
        return user in rule.users or any(
            group and self._directory.is_member(group, user) for group in rule.groups)

    def groups_of(self, record: Promotion, user: str) -> tuple[str, ...]:
        """The per-group shares `user` could fill (the env's atLeast groups they are in)."""
        return tuple(group for group, _ in self.rule(record).at_least
                     if self._directory.is_member(group, user))

    def waiting_on(self, record: Promotion) -> tuple[str, ...]:
        """Approvers who have not answered and whose approval would move the record on."""
        rule = self.rule(record)
        if rule.quorum <= 0:
            return ()
        members: dict[str, set[str]] = {user: set() for user in rule.users}
        for group in rule.groups:
            if not group:
                continue
            for user in self._directory.members(group):
                members.setdefault(user, set()).add(group)
        have = record.approvers()
        groups_of = {a.user: a.groups for a in record.approvals if a.sha == record.head_sha}
        shares = {group for group, _ in rule.at_least}
        return tuple(sorted(
            user for user, groups in members.items()
            if user != record.requested_by
            and approvals.helps(rule, have, groups_of, user, tuple(sorted(groups & shares)))
        ))
