"""Where a click or a modal came from, checked against the record it acts on.

A button acts on the record of the card it is on: the record its value names must have its card
(handlers/notifier.py CardRef, kept in the store) at exactly the channel and message ts of the
click. A click on another record's card, on a message the bot did not post, or on a card the
bot has since re-posted elsewhere, is refused before anything is read or changed. Reads the
store only; who may act is the core's (slackbot/engine/access.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from handlers.notifier import CardRef
from slackbot.ports import Store


@dataclass(frozen=True)
class Origin:
    """The message a click was made on: its channel and ts (None when it was no message)."""

    channel: str | None
    ts: str | None


def of_click(body: dict[str, Any]) -> Origin:
    container = body.get("container") or {}
    if container.get("type", "message") != "message":
        return Origin(None, None)  # a button in a modal or App Home is on no card
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    return Origin(str(channel) if channel else None, str(ts) if ts else None)


def is_card_of(store: Store, record_id: int, origin: Origin) -> bool:
    """Whether the message at `origin` is the card of `record_id`."""
    if origin.channel is None or origin.ts is None:
        return False
    card = CardRef.decode(store.notice(record_id))
    return card is not None and (card.channel, card.ts) == (origin.channel, origin.ts)
