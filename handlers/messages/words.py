"""The small pieces sentences are built from: people, revisions, commands, durations, dates.

Facts from the core arrive as data; these turn each into safe mrkdwn. A person is a mention,
anything else from outside is escaped. The commands are named as the app manifest declares.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from handlers import mrkdwn
from handlers.ids import COMMAND, HOTFIX_COMMAND, ROLLBACK_COMMAND
from slackbot import models
from slackbot.models import Kind
from slackbot.pipeline import ALL

who = mrkdwn.user
text = mrkdwn.escape


def short_rev(revision: str | None) -> str:
    """`prod@sha1:0123456789` -> `prod@0123456`."""
    if not revision:
        return "nothing"
    branch, _, sha = revision.partition("@sha1:")
    return text(f"{branch}@{sha[:7]}" if sha else revision)


def duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 3600 == 0 and seconds >= 3600:
        return f"{seconds // 3600}h"
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"


def utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def weekday_utc(moment: datetime) -> str:
    return moment.strftime("%a %Y-%m-%d %H:%M UTC")


def again(kind: Kind | None, env: str | None, hotfix: str | None = None) -> str:
    """The command that starts this kind of record over."""
    if kind is Kind.ROLLBACK:
        return f"{ROLLBACK_COMMAND} {env} again"
    if kind is Kind.HOTFIX:
        return f"{HOTFIX_COMMAND} promote {text(hotfix or '')} again"
    return f"{COMMAND} {env} again"


def record_name(kind: Kind | None, record: int | None) -> str:
    """P-12, R-3, H-2: a record's own name (`#12` is a pull request's)."""
    return models.record_name(kind, record)


def freeze_scope(app: str, env: str) -> tuple[str, str, str]:
    """What a freeze of (app, env) covers, in words; what `/promote freeze|unfreeze` calls it;
    and which promotions it stops: an env's own, every env of an app (env `*`), every app."""
    if env != ALL:
        return f"{env} of {app}", env, f"into {env}"
    if app == ALL:
        return "every app", "all", "anywhere"
    return f"every environment of {app}", app, f"of {app}"

