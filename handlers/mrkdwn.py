"""Slack mrkdwn's small pieces: escaping, mentions, links, dates, lengths.

Text that came from people or from outside services is escaped (`&`, `<`, `>`), so it can
never forge a mention, a link or a broadcast; a mention is only ever made from a user id the
bot chose to name. Pure functions: no Slack calls here.
"""

from __future__ import annotations

import re
from datetime import datetime

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def user(user_id: str) -> str:
    """A mention of a Slack user id; anything that is not one is shown escaped, inert."""
    return f"<@{user_id}>" if _USER_ID.match(user_id) else escape(user_id)


def group(group_id: str) -> str:
    """A mention of a Slack user group id (`@sre`); anything else is shown escaped, inert."""
    return f"<!subteam^{group_id}>" if _GROUP_ID.match(group_id) else escape(group_id)


def link(url: str, label: str) -> str:
    safe = url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C").replace(" ", "%20")
    return f"<{safe}|{escape(label)}>"


def when(moment: datetime, fmt: str = "{date_short_pretty} {time}") -> str:
    """A date each reader sees in their own time zone; the fallback is UTC."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{fmt}|{fallback}>"


def clip(text: str, limit: int) -> str:
    """At most `limit` characters; a cut never leaves half an entity (`&am`) or half a
    mention (`<@U12`) behind."""
    if len(text) <= limit:
        return text
    kept = re.sub(r"(&[A-Za-z0-9#]{0,6}|<[^<>]*)$", "", text[: max(0, limit - 1)])
    return kept + "…"


def short(sha: str | None) -> str:
    return (sha or "")[:7]
