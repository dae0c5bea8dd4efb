"""Bolt answers Slack when a listener returns (handlers/app.py): the Slack calls a listener
makes after its ack (the rollback dialog, a button's modal, a card button's checks) run off
the request's thread, so the ack never waits for them. The emulator's views.open is held
until the test has seen the ack; had the listener opened the dialog in the request's thread,
the ack would come only after the hold's bound and after views.open answered."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from handlers import ids
from tests import waiting
from tests.handlers.conftest import DEV, STAKE, Edge, wait_for
from tests.handlers.test_approvals import _prod


class HeldMethod:
    """One of the emulator's Web API methods, answered only once released (or at the suite's
    bound); what happened is noted in order."""

    def __init__(self, edge: Edge, method: str):
        self._methods = edge.emulator.webapi.methods
        self._method = method
        self._real = self._methods[method]
        self._open = threading.Event()
        self._lock = threading.Lock()
        self.log: list[str] = []
        self._methods[method] = self._held

    def _held(self, params: Any) -> Any:
        self._open.wait(timeout=waiting.WAIT)
        answer = self._real(params)
        self.note(f"{self._method} answered")
        return answer

    def note(self, what: str) -> None:
        with self._lock:
            self.log.append(what)

    def release(self) -> None:
        self._open.set()

    def restore(self) -> None:
        self.release()
        self._methods[self._method] = self._real


@pytest.fixture
def held_views_open(edge: Edge) -> Iterator[HeldMethod]:
    held = HeldMethod(edge, "views.open")
    yield held
    held.restore()


def test_the_rollback_command_is_acked_before_its_dialog_opens(
        edge: Edge, held_views_open: HeldMethod) -> None:
    result = edge.command("/rollback staging")
    held_views_open.note("acked")
    held_views_open.release()
    assert result["status"] == 200 and result["error"] is None
    wait_for(lambda: edge.emulator.open_views(DEV), what="the loading dialog")
    assert held_views_open.log == ["acked", "views.open answered"]


def test_a_card_button_is_acked_before_its_modal_opens(
        edge: Edge, held_views_open: HeldMethod) -> None:
    card = _prod(edge)
    result = edge.click(STAKE, ids.REJECT, card["ts"])
    held_views_open.note("acked")
    held_views_open.release()
    assert result["error"] is None
    modal = wait_for(lambda: edge.emulator.open_views(STAKE), what="the reject modal")[-1]
    assert modal["callback_id"] == ids.REJECT_VIEW
    assert held_views_open.log == ["acked", "views.open answered"]
