"""The words of the access policy: a refusal that names the rule and whom to ask ("freezing prod
needs the stakeholder or on-call role: ask @sam or @omar"), and what one person may do, per env
(the follow-up of `/promote help`).

Roles and channels come from the pipeline file; people are mentions of ids the bot chose.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from handlers.messages.words import freeze_scope, record_name, text, who
from slackbot.engine.access import Grant
from slackbot.models import Kind
from slackbot.pipeline import ALL, App
from slackbot.policy import ONCALL, OWNER, REQUESTER
from slackbot.reasons import Action, Reason

ROLE_WORDS = {ONCALL: "on-call"}

# What a person does, as a noun phrase, for "… needs the X role".
_DOING = {
    Action.REQUEST: "promoting into {env}",
    Action.APPROVE: "approving {record}",
    Action.REJECT: "rejecting {record}",
    Action.CANCEL: "cancelling {record}",
    Action.RETRY: "retrying {record}",
    Action.PLAN: "writing the rollback plan of {record}",
    Action.FREEZE: "freezing {env}",
    Action.UNFREEZE: "unfreezing {env}",
    Action.ROLLBACK: "rolling {env} back",
    Action.EMERGENCY_ROLLBACK: "an emergency rollback of {env}",
    Action.HOTFIX_START: "starting a hotfix of {app}",
    Action.HOTFIX_PROMOTE: "promoting a hotfix into {env}",
    Action.UNLOCK: "lifting the hold on {env}",
}

# What one may do, as help lists it.
_MAY = {
    Action.REQUEST: "promote",
    Action.APPROVE: "approve (never your own)",
    Action.REJECT: "reject",
    Action.CANCEL: "cancel",
    Action.PLAN: "write rollback plans",
    Action.FREEZE: "freeze",
    Action.UNFREEZE: "unfreeze",
    Action.ROLLBACK: "roll back",
    Action.EMERGENCY_ROLLBACK: "roll back in an emergency",
    Action.HOTFIX_START: "start hotfixes",
    Action.HOTFIX_PROMOTE: "promote hotfixes",
    Action.UNLOCK: "lift holds",
}
_OWN = {
    Action.CANCEL: "cancel your own",
    Action.PLAN: "write the rollback plan of your own",
    Action.UNFREEZE: "lift your own freezes",
    Action.UNLOCK: "lift your own holds",
}


def channel(channel_id: str) -> str:
    """A channel of the pipeline: a link when it is an id, its name otherwise."""
    if re.fullmatch(r"[CG][A-Z0-9]+", channel_id):
        return f"<#{channel_id}>"
    return text("#" + channel_id.lstrip("#"))


def role_word(role: str) -> str:
    return text(ROLE_WORDS.get(role, role))


def either(words: list[str]) -> str:
    """`a`, `a or b`, `a, b or c` (and nothing for none)."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


def doing(reason: Reason) -> str:
    action = reason.action or Action.REQUEST
    name = record_name(reason.kind, reason.record)  # P-12, R-3, H-2: `#12` is a pull request
    record = name if reason.record is not None else f"promotions into {reason.env}"
    phrase = _DOING[action].format(env=reason.env, app=reason.app, record=record)
    if action is Action.REQUEST and reason.record is not None:  # a retry, authorized as a request
        phrase = f"retrying {name} (a new promotion into {reason.env})"
    if action is Action.HOTFIX_PROMOTE and reason.kind is Kind.HOTFIX and reason.record:
        phrase = f"retrying hotfix {name} (promoting it into {reason.env} again)"
    return phrase


def _needs(reason: Reason) -> str:
    related = []
    if REQUESTER in reason.roles:
        related.append("its requester")
    if OWNER in reason.roles:
        related.append("whoever froze it" if reason.action is Action.UNFREEZE
                       else "whoever placed the hold")
    roles = [role_word(r) for r in reason.roles if r not in (REQUESTER, OWNER)]
    if roles:
        related.append(f"the {either(roles)} role")
    return ", or ".join(related)


def not_permitted(reason: Reason) -> str:
    needs = _needs(reason)
    if not needs:
        return (f"nobody may do that: {doing(reason)} is closed by {reason.app}'s access "
                f"policy; the pipeline file says who may")
    people = [who(p) for p in ((reason.who,) if reason.who else ()) + reason.people]
    ask = f"ask {either(people)}" if people else "ask someone who has it"
    return f"{doing(reason)} needs {needs}: {ask}"


def not_approver(reason: Reason) -> str:
    people = [who(p) for p in reason.people]
    ask = f"ask {either(people)}" if people else "ask one of them"
    return (f"{doing(reason)} is for {reason.env}'s approvers (gates.approvers in the "
            f"pipeline file): {ask}")


def wrong_channel(reason: Reason) -> str:
    where = either([channel(c) for c in reason.channels]) or "another channel"
    line = f"{doing(reason)} is done in {where}: run it there"
    if reason.action is Action.EMERGENCY_ROLLBACK:
        line += ", or drop `emergency` for a planned revert pull request"
    return line


def already_frozen(reason: Reason, since: str) -> str:
    scope = (freeze_scope(reason.app or "", ALL)[0] if reason.env == ALL
             else reason.env)  # an env is named alone: the refusal is about that app already
    return (f"{scope} is already frozen by {who(reason.who or '')} since {since} "
            f"({text(reason.text or '')}): a freeze keeps its owner; ask them, or unfreeze it "
            f"first if you may, then freeze it with your reason")


# -- what one person may do (the follow-up of /promote help) -----------------------------------


def grants_title(app: str, user: str) -> str:
    return f"*What {who(user)} may do in {app}*"


def grants_line(env: str, grants: tuple[Grant, ...], deploys: str, incidents: str) -> str:
    if not grants:
        return f"*{env}*: nothing (help and status only)"
    everywhere = {deploys, incidents}
    items = []
    for grant in grants:
        words = _OWN[grant.action] if grant.own else _MAY[grant.action]
        if set(grant.channels) != everywhere:
            words += " (in " + either([channel(c) for c in grant.channels]) + ")"
        items.append(words)
    return f"*{env}*: " + ", ".join(items)


def no_grants(app: str) -> str:
    return (f"You have no role in {app}'s access policy: you may use `help` and `status`. "
            f"The pipeline file's `roles` say who is who; ask your platform team to add you.")


def grants_footer() -> str:
    return ("_A retry is allowed as the action it repeats. The requester never approves their "
            "own promotion._")


def grants_message(user: str,
                   sections: Sequence[tuple[App, list[tuple[str, tuple[Grant, ...]]]]]) -> str:
    """What one person may do, per app and env (the follow-up of `/promote help`)."""
    parts = []
    for app, per_env in sections:
        if not any(grants for _, grants in per_env):
            parts.append(no_grants(app.name))
            continue
        lines = [grants_title(app.name, user)] + [
            grants_line(env, grants, app.channels.deploys, app.channels.incidents)
            for env, grants in per_env]
        parts.append("\n".join(lines))
    return "\n\n".join([*parts, grants_footer()])
