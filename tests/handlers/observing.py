"""What a test compares before and after a refused action: Redis, GitHub, git and Slack; and
what the bot said, read as Slack would render it (which control sequences are the bot's own).

A refusal must leave all of it as it was: Redis without the delivery keys (every delivery
claims one), the forge's heads, pull requests and comments, the workspace's reverts, the
outside calls made, and every channel's messages (text and blocks) with their threads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from tests.handlers.conftest import Edge

# A Slack control sequence: `<` up to the next `>` (or to the end, for an unclosed one).
SEQUENCE = re.compile(r"<[^>]*>?")


def world_state(edge: Edge, channels: Iterable[str]) -> dict[str, object]:
    # idempotency marks, and Slack's pace (a slot that expires on its own), are not the world
    redis_state = {k: v for k, v in edge.snapshot().items()
                   if ":once:" not in k and ":pace:" not in k}
    slack = {}
    for channel in channels:
        messages = edge.emulator.history(channel)
        slack[channel] = [
            (m.get("ts"), m.get("text"), json.dumps(m.get("blocks"), sort_keys=True),
             len(edge.emulator.replies(channel, str(m.get("ts")))))
            for m in messages
        ]
    return {
        "redis": redis_state,
        "heads": dict(edge.forge.heads),
        "pulls": dict(edge.forge.pulls),
        "comments": list(edge.forge.comments),
        "reverts": list(edge.workspace.reverts),
        "outside calls": len(edge.order.outside_calls()),
        "slack": slack,
    }


def texts_of(message: dict[str, Any]) -> list[str]:
    """Every mrkdwn and plain text a message or view carries (its text, blocks, elements,
    options, confirms), as sent."""
    found: list[str] = []
    if isinstance(message.get("text"), str):
        found.append(message["text"])

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks") or [])
    return found


def foreign_sequences(text: str, users: set[str], channels: set[str]) -> list[str]:
    """The control sequences of `text` the bot did not choose: anything but a mention of a
    known user, a link to a known channel, a date, or a link to a pull request."""
    foreign = []
    for match in SEQUENCE.finditer(text):
        sequence = match.group(0)
        if re.fullmatch(r"<@([UW][A-Z0-9]+)>", sequence) and sequence[2:-1] in users:
            continue
        if re.fullmatch(r"<#([CG][A-Z0-9]+)>", sequence) and sequence[2:-1] in channels:
            continue
        if re.fullmatch(r"<!date\^\d+\^[^|<>]*\|[^<>]*>", sequence):
            continue
        if re.fullmatch(r"<https://github\.test/[^|<>\s]*\|[^<>]*>", sequence):
            continue
        foreign.append(sequence)
    return foreign
