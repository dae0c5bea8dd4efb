"""The one authorization check of the core: may this person take this action, on this env (or
record), in this channel? The pipeline's access policy says which roles and channels
(slackbot/policy.py); the Directory port says who is in a Slack user group.

Every command of the engine calls `check` before it changes anything, so every surface (a slash
command, a button, a modal, the sandbox's web UI) is ruled alike. A refusal is a NotAllowed
whose Reason names the rule and whom to ask. No Slack here, and no prose.
"""

from __future__ import annotations

from dataclasses import dataclass

from slackbot.errors import AdapterError, NotAllowed
from slackbot.models import Kind, Promotion
from slackbot.pipeline import App, Environment
from slackbot.policy import (
    ACCESS_KEYS,
    OWNER,
    REQUESTER,
    Rule,
    by_relation,
    channel_ids,
    groups_of,
    in_channel,
    named_users,
)
from slackbot.ports import Directory
from slackbot.reasons import Action, Code, Next, Reason

MAX_NAMED = 5  # a refusal names the people to ask when the rule's roles hold this many or fewer
# What makes something one's own: a record one asked for, a freeze or a hold one placed. Help
# lists "your own" only where the person may make one.
_MADE_BY = {
    Action.CANCEL: (Action.REQUEST, Action.ROLLBACK, Action.EMERGENCY_ROLLBACK,
                    Action.HOTFIX_PROMOTE),
    Action.PLAN: (Action.REQUEST, Action.HOTFIX_PROMOTE),
    Action.UNFREEZE: (Action.FREEZE,),
    Action.UNLOCK: (Action.ROLLBACK, Action.EMERGENCY_ROLLBACK),
}


@dataclass(frozen=True)
class Grant:
    """One thing a person may do in an env: in which channels, and whether only on what is
    their own (a record they asked for, a freeze or hold they placed)."""

    action: Action
    channels: tuple[str, ...]  # channel ids
    own: bool = False


class Access:
    def __init__(self, directory: Directory):
        self._directory = directory

    def check(self, action: Action, app: App, env: Environment, user: str,
              channel: str | None, *, requester: str | None = None, owner: str | None = None,
              record: int | None = None, kind: Kind | None = None,
              member: bool | None = None) -> None:
        """Raise NotAllowed unless the env's rule for `action` allows `user` in `channel`
        (None: a caller without a channel, such as the CLI; the Slack edge always has one).
        `requester` and `owner` are who the pseudo-roles name (the record's requester, the
        freeze's or hold's owner); `record` and `kind` only inform the refusal. `member`, when
        given, answers "is the user among those who may" instead of the rule's roles (an env
        whose gate names its approvers)."""
        rule = env.access.rule(action)
        allowed = self._member(rule, app, user) if member is None else member
        if not by_relation(rule, user, requester, owner) and not allowed:
            related = requester if REQUESTER in rule.roles else (
                owner if OWNER in rule.roles else None)
            besides = {user, related or "", *(  # the requester never approves their own
                [requester or ""] if action in (Action.APPROVE, Action.REJECT) else [])}
            raise NotAllowed(Reason(
                Code.NOT_PERMITTED, Next.ASK_ROLE, app=app.name, env=env.name, action=action,
                record=record, kind=kind, roles=rule.roles, who=related,
                people=self._people(rule, app, besides),
            ))
        if not in_channel(rule, channel, app.channels.deploys, app.channels.incidents):
            emergency = action is Action.EMERGENCY_ROLLBACK
            raise NotAllowed(Reason(
                Code.WRONG_CHANNEL, Next.DROP_EMERGENCY if emergency else Next.RUN_IN_CHANNEL,
                app=app.name, env=env.name, action=action, record=record, kind=kind,
                channels=channel_ids(rule, app.channels.deploys, app.channels.incidents),
            ))

    def check_record(self, action: Action, app: App, record: Promotion, user: str,
                     channel: str | None, member: bool | None = None) -> None:
        """`check` for an action on a record: its env's rule, its requester."""
        self.check(action, app, app.env(record.env), user, channel,
                   requester=record.requested_by, record=record.id, member=member)

    def grants(self, app: App, user: str) -> list[tuple[str, tuple[Grant, ...]]]:
        """Per env, what `user` may do there (for help): the actions that mean something in
        the env, each with its channels, and whether only on what is the user's own."""
        found: list[tuple[str, tuple[Grant, ...]]] = []
        for env in app.environments:
            member = {action: self._member(env.access.rule(action), app, user)
                      for action in ACCESS_KEYS}
            grants: list[Grant] = []
            for action in ACCESS_KEYS:
                if not _applies(action, app, env):
                    continue
                rule = env.access.rule(action)
                channels = channel_ids(rule, app.channels.deploys, app.channels.incidents)
                if member[action]:
                    grants.append(Grant(action, channels))
                elif ((REQUESTER in rule.roles or OWNER in rule.roles)
                      and any(member[made] for made in _MADE_BY.get(action, ()))):
                    grants.append(Grant(action, channels, own=True))
            found.append((env.name, tuple(grants)))
        return found

    def _member(self, rule: Rule, app: App, user: str) -> bool:
        """In one of the rule's roles: on its list, or in its Slack user group."""
        if named_users(rule, app.roles, user):
            return True
        return any(self._directory.is_member(group, user) for group in groups_of(rule, app.roles))

    def _people(self, rule: Rule, app: App, besides: set[str]) -> tuple[str, ...]:
        """Whom a refused person may ask: the rule's people, when they are few."""
        people: dict[str, None] = {}
        for name in rule.roles:
            role = app.roles.get(name)
            if role is None:
                continue
            people.update(dict.fromkeys(role.users))
            if role.group:
                try:
                    people.update(dict.fromkeys(sorted(self._directory.members(role.group))))
                except AdapterError:
                    return ()  # the refusal stands; it just names nobody
        named = tuple(p for p in people if p not in besides)
        return named if len(named) <= MAX_NAMED else ()


def _applies(action: Action, app: App, env: Environment) -> bool:
    """Whether the action means something in the env (help lists only those)."""
    last = env.name == app.environments[-1].name
    if action is Action.REQUEST:
        return app.index(env.name) > 0
    if action in (Action.APPROVE, Action.REJECT):
        return env.gates.stakeholder_approvals > 0
    if action is Action.PLAN:
        return env.gates.rollback_plan
    if action in (Action.EMERGENCY_ROLLBACK, Action.HOTFIX_START, Action.HOTFIX_PROMOTE):
        return last
    return True
