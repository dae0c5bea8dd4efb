"""Every message, ephemeral and view a bot sent to the Slack emulator, checked with slack_sdk's
Block Kit models (the same validation Slack applies to what it accepts)."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from sandbox.slack.server import SlackEmulator

VIEW_KEYS = ("type", "blocks", "callback_id", "private_metadata", "title", "submit", "close",
             "external_id")


def bot_output(emulator: SlackEmulator) -> tuple[list[list[dict[str, Any]]], list[dict[str, Any]]]:
    ws = emulator.workspace
    with ws.lock:
        lists = [v.get("blocks") or [] for versions in ws.versions.values() for v in versions]
        lists += [m.get("blocks") or [] for ms in ws.ephemerals.values() for m in ms]
        views = [json.loads(json.dumps(v)) for v in ws.views.values()]
    return lists, views


def validate_bot_output(emulator: SlackEmulator) -> int:
    """Parses and validates everything; returns how many blocks and views were checked."""
    lists, views = bot_output(emulator)
    count = 0
    for blocks in lists:
        assert len(blocks) <= 50
        for block in blocks:
            parsed = Block.parse(block)
            assert parsed is not None, block
            parsed.validate_json()
            count += 1
    for view in views:
        View(**{k: view[k] for k in VIEW_KEYS if view.get(k)}).validate_json()
        count += 1
    return count
