"""A dependency's outage as the log tells it: one warning when it starts (what failed and the
error, one line), nothing while it lasts, one line when it answers again; and how long to wait
before the next attempt (doubling, capped, back to the first delay once it answers).

The loops that keep calling a service (the Kustomization watch, the leader lease, the lock
keeper, the poll, GitHub's pause after a failure) each keep one, so an outage costs two lines
and a backoff, never a traceback a second. Each failure's traceback goes to DEBUG. It retries
nothing itself, and it says nothing to people: the cards show outages (slackbot.outages).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slackbot.errors import ClusterUnavailable, ForgeUnavailable, StoreUnavailable

log = logging.getLogger(__name__)


def is_outage(error: BaseException) -> bool:
    """An error that only says a service is away (its adapter's Downtime or the outage board
    logs the outage once): the loop that met it need not log it again."""
    return isinstance(error, (StoreUnavailable, ForgeUnavailable, ClusterUnavailable))


def one_line(error: BaseException | str) -> str:
    """The error in one short line: its type and the first line of its message."""
    if isinstance(error, str):
        return error
    text = str(error).strip().split("\n")[0]
    return f"{type(error).__name__}: {text[:200]}" if text else type(error).__name__


class Downtime:
    def __init__(self, what: str, logger: logging.Logger | None = None, *, first: float = 1.0,
                 cap: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.what = what  # "the Kubernetes API (kustomization watch)"
        self._log = logger or log
        self._first, self._cap = first, cap
        self._clock = clock
        self._lock = threading.Lock()
        self.failures = 0
        self._since = 0.0

    @property
    def down(self) -> bool:
        with self._lock:
            return self.failures > 0

    def failed(self, error: BaseException | str) -> float:
        """One failed attempt: warned of when it is the outage's first; the seconds to wait
        before the next attempt."""
        with self._lock:
            self.failures += 1
            failures = self.failures
            if failures == 1:
                self._since = self._clock()
        if failures == 1:
            self._log.warning("%s is failing: %s; retrying with backoff (up to %gs between "
                              "attempts)", self.what, one_line(error), self._cap)
        if isinstance(error, BaseException):
            self._log.debug("%s failed (attempt %d)", self.what, failures, exc_info=error)
        return min(self._cap, self._first * 2.0 ** min(failures - 1, 16))

    def answered(self) -> None:
        """An answer: the outage (if any) is over, and said so once."""
        with self._lock:
            failures, self.failures = self.failures, 0
            lasted = self._clock() - self._since
        if failures:
            self._log.info("%s answers again after %.0fs (%d failed attempt%s)", self.what,
                           lasted, failures, "" if failures == 1 else "s")
