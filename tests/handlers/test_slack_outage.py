"""Slack away while cards wait: the notifier logs the outage once (one line, no traceback),
keeps retrying each card with its own backoff, says once that Slack answers again, and the
card then shows the record as it is."""

from __future__ import annotations

import logging

import pytest

from tests.handlers.conftest import Edge
from tests.waiting import wait_for

CARDS = frozenset({"chat.postMessage", "chat.update"})


def test_a_slack_outage_is_logged_once_and_the_card_catches_up(
        edge: Edge, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="handlers.notifier")
    edge.emulator.webapi.failing = CARDS
    edge.command("/promote prod")
    record = wait_for(lambda: edge.store.get(1), "the record")
    wait_for(lambda: edge.bot.notifier._slack_down.failures >= 3, "three failed renders")
    edge.core.commands.cancel(record.id, record.requested_by)  # another change meanwhile
    edge.emulator.webapi.failing = frozenset()
    edge.wait_state(1, "cancelled")  # the card caught up with the record
    edge.settle()

    def said() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name == "handlers.notifier"
                and r.levelno >= logging.INFO]

    wait_for(lambda: any("answers again" in r.getMessage() for r in said()),
             "the line saying Slack answers again")
    lines = said()
    failing = [r for r in lines if "Slack (the cards) is failing" in r.getMessage()]
    back = [r for r in lines if "Slack (the cards) answers again" in r.getMessage()]
    assert len(failing) == 1 and len(back) == 1, [r.getMessage() for r in lines]
    assert "503" in failing[0].getMessage()
    assert not any(r.exc_info for r in lines if r.levelno >= logging.WARNING)
    assert len(edge.cards()) == 1  # posted once, when Slack answered
