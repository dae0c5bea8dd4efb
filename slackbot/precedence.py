"""Answers with a deadline go first: while a request that must be answered in time is being
handled (Slack drops an ack after 3 s), the bot's workers start no new task.

Python runs one thread at a time. Under a burst of commands the workers' tasks (what follows
each ack: reads, answers, card renders) took the interpreter from the requests still waiting
for their ack, so every ack waited on the work of the acks before it. A worker about to start
a task waits until no such request is in flight, at most `max_pause` (work that may wait still
moves when requests never stop coming). A task already running is never paused.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

MAX_PAUSE = 0.2  # seconds a worker holds back one task for requests in flight


class Precedence:
    def __init__(self, max_pause: float = MAX_PAUSE):
        self._max_pause = max_pause
        self._cond = threading.Condition()
        self._urgent = 0
        self._held = 0

    @property
    def in_flight(self) -> int:
        """Urgent requests being handled now."""
        with self._cond:
            return self._urgent

    @property
    def held(self) -> int:
        """Tasks held back now."""
        with self._cond:
            return self._held

    @contextmanager
    def urgent(self) -> Iterator[None]:
        """Around the handling of one request that must be answered in time."""
        with self._cond:
            self._urgent += 1
        try:
            yield
        finally:
            with self._cond:
                self._urgent -= 1
                if self._urgent == 0:
                    self._cond.notify_all()

    def wait_turn(self) -> None:
        """Before a task that may wait: until no urgent request is in flight, or `max_pause`."""
        with self._cond:
            self._held += 1
            try:
                self._cond.wait_for(lambda: self._urgent == 0, self._max_pause)
            finally:
                self._held -= 1
