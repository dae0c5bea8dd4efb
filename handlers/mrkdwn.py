"""Turning the engine's plain sentences into Slack mrkdwn: escaping, mentions, dates, lengths.

The engine names people `@<user id>`; Slack needs `<@U123>`. Text that came from people or
from outside services is escaped first (`&`, `<`, `>`), so it can never forge a mention, a
link or a broadcast. Pure functions: no Slack calls here.
"""

from __future__ import annotations

import re
from datetime import datetime

_MENTION = re.compile(r"(?<![\w<])@([UW][A-Z0-9]{2,})\b")


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mentions(text: str) -> str:
    """`@U123` -> `<@U123>`; everything else untouched (call `escape` first on raw text)."""
    return _MENTION.sub(r"<@\1>", text)


def sentence(text: str) -> str:
    """An engine sentence, safe for mrkdwn, with its people as Slack mentions."""
    return mentions(escape(text))


def user(user_id: str) -> str:
    return f"<@{user_id}>"


def link(url: str, label: str) -> str:
    return f"<{url}|{escape(label)}>"


def when(moment: datetime, fmt: str = "{date_short_pretty} {time}") -> str:
    """A date each reader sees in their own time zone; the fallback is UTC."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{fmt}|{fallback}>"


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def short(sha: str | None) -> str:
    return (sha or "")[:7]
