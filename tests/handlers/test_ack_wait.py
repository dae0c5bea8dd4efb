"""How long Bolt waits for a listener's ack: Slack's 3 s in production; the suite raises it (a
starved machine may run a listener's thread late), and every listener of the bot gets it."""

from __future__ import annotations

import pytest

from handlers.app import SLACK_ACK_SECONDS
from promotebot.wiring import ACK_WAIT_VARIABLE, Tuning
from tests.handlers.conftest import Edge


def test_production_waits_slacks_three_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ACK_WAIT_VARIABLE)
    assert Tuning().ack_wait_seconds == SLACK_ACK_SECONDS == 3.0


def test_every_listener_of_the_bot_waits_what_the_suite_says(edge: Edge) -> None:
    assert Tuning().ack_wait_seconds == 600.0
    listeners = edge.bot.bolt._listeners
    assert len(listeners) > 10  # commands, buttons, dialogs, events
    assert {listener.ack_timeout for listener in listeners} == {600.0}
