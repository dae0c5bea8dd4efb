"""The direct messages an event sends, each to one person in their conversation with the bot:
a reminder to an approver who has not answered, an escalation to each member of its group,
a queued request that started or could not start.

Matches on the event's typed facts; who is told is the core's decision (the facts name
them). Events that tell nobody directly give an empty list.
"""

from __future__ import annotations

from datetime import timedelta

from handlers import mrkdwn
from handlers.ids import COMMAND
from handlers.messages import refusals
from handlers.messages.timeline import pending
from handlers.messages.words import duration, who
from slackbot import events as ev
from slackbot.events import Event
from slackbot.models import Promotion
from slackbot.reasons import Reason


def messages(event: Event, record: Promotion, channel: str) -> list[tuple[str, str]]:
    """(user id, text) for each person the event tells directly; `channel`: the card's."""
    match event.facts:
        case ev.Reminded(after=after, users=users):
            return [(user, reminder(record, after, channel)) for user in users]
        case ev.Escalated(after=after, group=group, users=users):
            return [(user, escalation(record, after, group, channel)) for user in users]
        case ev.FromQueue():
            return [(record.requested_by, started(record, channel))]
        case ev.QueueRefused(user=user, reason=reason):
            return [(user, refused(record.app, record.env, reason))]
    return []


def _what(record: Promotion) -> str:
    kind = record.kind.value.capitalize()
    pull = (f" ({mrkdwn.link(record.pr_url, f'pull request #{record.pr_number}')})"
            if record.pr_url and record.pr_number is not None else "")
    return f"{kind} #{record.id} of {record.app} to {record.env}{pull}"


def reminder(record: Promotion, after: timedelta, channel: str) -> str:
    return (f":bell: {_what(record)}, asked for by {who(record.requested_by)}, has waited "
            f"{duration(after)} and needs your approval (still missing: {pending(record)}). "
            f"Approve or reject it on its card in <#{channel}>.")


def escalation(record: Promotion, after: timedelta, group: str, channel: str) -> str:
    return (f":rotating_light: Escalated to {mrkdwn.group(group)}: {_what(record)}, asked for "
            f"by {who(record.requested_by)}, has waited {duration(after)} for its gates (still "
            f"missing: {pending(record)}). Its card is in <#{channel}>.")


def started(record: Promotion, channel: str) -> str:
    return (f":arrow_forward: Your queued request has started: {_what(record)}. Follow it in "
            f"<#{channel}>.")


def refused(app: str, env: str, reason: Reason) -> str:
    return (f":no_entry: Your queued request to promote {app} to {env} could not start: "
            f"{refusals.sentence(reason)}. Ask again with `{COMMAND} {env} {app}` once that is "
            f"fixed.")
