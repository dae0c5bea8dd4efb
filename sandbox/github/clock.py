"""The emulated GitHub's sense of time: when tokens expire, rate windows reset, outages end,
and a pull request's mergeability is computed.

`SystemClock` is the wall clock (the default); tests pass a `ManualClock` and step it, so an
hour-long token lifetime or a rate window is crossed in one call, never waited for. App JWTs
are the exception: the client signs them with its own wall clock, so `apps` checks them
against the wall clock too. This module owns no GitHub behaviour.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Epoch seconds."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that moves only when told to (thread-safe); starts at the wall clock's now."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Moves the clock forward by `seconds`; returns the new time."""
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        with self._lock:
            self._now += seconds
            return self._now


def utc(clock: Clock) -> datetime:
    """The clock's now as a UTC datetime, to the second (as GitHub's timestamps are)."""
    return datetime.fromtimestamp(int(clock.now()), tz=UTC)
