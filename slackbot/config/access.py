"""The access policy of the pipeline file: its meaning checked (each problem with its key path),
and its values built (roles, and each env's rules with the defaults filled in).

    roles:   {stakeholder: {group: S0123}, developer: {users: [U0123, U0456]}}   per app
    access:  {freeze: {roles: [stakeholder, oncall], channels: [deploys]}}       per app, and
             per env (an env's rule overrides the app's, key by key; DEFAULT_RULES fill in the
             rest)

The four roles of the default policy (developer, reviewer, stakeholder, oncall) always exist,
with nobody in them unless the file says who. The older `groups: {stakeholders: S.., oncall:
S..}` still works: it defines the stakeholder and oncall roles. Only reads checked data; the
schema (schema.py) has checked its structure.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import Any

from slackbot.config.reading import Report, key_path
from slackbot.config.schema import KeyPath
from slackbot.policy import (
    ACCESS_KEYS,
    ACTIONS_BY_KEY,
    DEFAULT_RULES,
    ONCALL,
    PSEUDO_ROLES,
    STAKEHOLDER,
    TEAM,
    Policy,
    Role,
    Rule,
)
from slackbot.reasons import Action

LEGACY_GROUPS = {"stakeholders": STAKEHOLDER, "oncall": ONCALL}  # groups.<key> -> role
# Actions taken only with a card's buttons: the cards are in the deploys channel.
ON_CARDS = (Action.APPROVE, Action.REJECT, Action.PLAN)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _listed(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def role_names(app: Mapping[str, Any]) -> set[str]:
    """The roles the app has: the default policy's four, and those it defines."""
    return set(TEAM) | set(_mapping(app.get("roles")))


def has_people(app: Mapping[str, Any], role: str) -> bool:
    """Whether the file names anyone for `role` (a user group, or users)."""
    spec = _mapping(_mapping(app.get("roles")).get(role))
    legacy = any(_mapping(app.get("groups")).get(key) for key, name in LEGACY_GROUPS.items()
                 if name == role)
    return legacy or bool(spec.get("group")) or bool(_listed(spec.get("users")))


# --------------------------------------------------------------------------- checking


def check_access(app_name: str, app: dict[str, Any], report: Report) -> None:
    """Roles defined once, rules naming only roles that exist, and pseudo-roles only where they
    mean something; an env that needs approvals has someone who may approve."""
    base: KeyPath = ("apps", app_name)
    defined = role_names(app)
    for name in _mapping(app.get("roles")):
        if name in PSEUDO_ROLES:
            report.add((*base, "roles", name),
                       f"{json.dumps(name)} is built in ({_pseudo_meaning(name)}): pick another "
                       f"name")
    groups = _mapping(app.get("groups"))
    for key, role in LEGACY_GROUPS.items():
        if groups.get(key) and role in _mapping(app.get("roles")):
            report.add((*base, "groups", key),
                       f"the {role} role is also defined in "
                       f"{key_path((*base, 'roles', role))}: keep one of them")
    deploys = _mapping(app.get("channels")).get("deploys")
    _check_rules(_mapping(app.get("access")), (*base, "access"), defined, report, deploys)
    environments = app.get("environments")
    for index, env in enumerate(environments if isinstance(environments, list) else []):
        if not isinstance(env, dict):
            continue
        path: KeyPath = (*base, "environments", index)
        _check_rules(_mapping(env.get("access")), (*path, "access"), defined, report, deploys)
        gates = _mapping(env.get("gates"))
        approvals = gates.get("stakeholderApprovals")
        if "approvers" in gates:
            continue  # the gate names its approvers (checked with the gates)
        if isinstance(approvals, int) and not isinstance(approvals, bool) and approvals > 0:
            approvers = _effective_roles(app, env, Action.APPROVE)
            if not any(has_people(app, role) for role in approvers):
                report.add(
                    (*path, "gates", "stakeholderApprovals"),
                    f"needs someone who may approve, but the approve rule's roles "
                    f"({', '.join(approvers) or 'none'}) name nobody: set "
                    f"{key_path((*base, 'roles', STAKEHOLDER))} (a Slack user group or a list "
                    f"of users), or name another role in access.approve",
                )


def _check_rules(access: dict[str, Any], path: KeyPath, defined: set[str], report: Report,
                 deploys: Any) -> None:
    for key, rule in access.items():
        action = ACTIONS_BY_KEY.get(key)
        if action is None or not isinstance(rule, dict):
            continue  # the schema has said so
        channels = _listed(rule.get("channels"))
        if action in ON_CARDS and channels and not {"deploys", deploys} & set(channels):
            report.add((*path, key, "channels"),
                       f"{key} is done with the buttons of a card, and the cards are in the "
                       f"deploys channel: include deploys")
        for index, role in enumerate(_listed(rule.get("roles"))):
            where = (*path, key, "roles", index)
            if role in PSEUDO_ROLES:
                if action not in PSEUDO_ROLES[role]:
                    allowed = " and ".join(sorted(ACCESS_KEYS[a] for a in PSEUDO_ROLES[role]))
                    report.add(where, f"{json.dumps(role)} ({_pseudo_meaning(role)}) means "
                                      f"something only for {allowed}")
            elif role not in defined:
                close = difflib.get_close_matches(role, sorted(defined), n=1, cutoff=0.6)
                hint = f'; did you mean "{close[0]}"?' if close else (
                    f"; defined: {', '.join(sorted(defined))}" if defined else "")
                report.add(where, f"no role {json.dumps(role)} is defined in "
                                  f"{key_path((*path[:2], 'roles'))}{hint}")


def _pseudo_meaning(name: str) -> str:
    return ("whoever asked for the record" if name == "requester"
            else "whoever placed the freeze or the hold")


def _effective_roles(app: Mapping[str, Any], env: Mapping[str, Any],
                     action: Action) -> tuple[str, ...]:
    return _rule(app, env, action).roles


# --------------------------------------------------------------------------- building


def build_roles(app: Mapping[str, Any]) -> dict[str, Role]:
    roles: dict[str, Role] = {name: Role(name) for name in TEAM}
    groups = _mapping(app.get("groups"))
    for key, name in LEGACY_GROUPS.items():
        if groups.get(key):
            roles[name] = Role(name, group=groups[key])
    for name, spec in _mapping(app.get("roles")).items():
        spec = _mapping(spec)
        roles[name] = Role(name, group=spec.get("group"), users=tuple(_listed(spec.get("users"))))
    return roles


def _rule(app: Mapping[str, Any], env: Mapping[str, Any], action: Action) -> Rule:
    """DEFAULT_RULES, then the app's rule, then the env's, each overriding key by key."""
    rule = DEFAULT_RULES[action]
    key = ACCESS_KEYS[action]
    for layer in (_mapping(app.get("access")), _mapping(env.get("access"))):
        spec = _mapping(layer.get(key))
        if "roles" in spec:
            rule = Rule(tuple(_listed(spec["roles"])), rule.channels)
        if "channels" in spec:
            rule = Rule(rule.roles, tuple(_listed(spec["channels"])))
    return rule


def build_policy(app: Mapping[str, Any], env: Mapping[str, Any]) -> Policy:
    return Policy({action: _rule(app, env, action) for action in ACCESS_KEYS})


def rule_data(rule: Rule) -> dict[str, list[str]]:
    """A rule as the pipeline file writes it (`config show`)."""
    return {"roles": list(rule.roles), "channels": list(rule.channels)}


def role_data(role: Role) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if role.group:
        data["group"] = role.group
    if role.users or not role.group:
        data["users"] = list(role.users)
    return data
