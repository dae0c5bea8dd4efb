"""The simulated controllers' time: simulated seconds, and the waits on them.

Time runs `factor` times faster than real time, but only while nothing is owed: it stands
still while a controller is working (`busy`) and never runs past the earliest moment some
work is due but not yet taken (`set_due`). So a pod due to start at +3 s always starts before
a health check due to time out at +3m, however loaded the machine is: the order of events is
the order of their simulated times, not of the scheduler's luck. Tests can also `hold` time
and `advance` it step by step. Every queue and sleeper waits on the clock's one condition.
It must not know what the controllers do.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager

IDLE_BOUND = 30.0  # real seconds `advance` waits for the controllers to finish a step


class SimClock:
    def __init__(self, factor: float = 1.0):
        if factor <= 0:
            raise ValueError("time_scale must be positive")
        self.factor = factor
        self.condition = threading.Condition()
        self._sim = 0.0  # simulated seconds at the last rebase
        self._real = time.monotonic()  # real time at the last rebase
        self._busy = 0
        self._held = False
        self._dues: dict[Hashable, float] = {}  # owner -> earliest simulated time it is due

    # -- reading ---------------------------------------------------------------------------

    def now(self) -> float:
        with self.condition:
            return self._now()

    def _now(self) -> float:
        if self._held or self._busy:
            return self._sim
        running = self._sim + (time.monotonic() - self._real) * self.factor
        due = min(self._dues.values(), default=math.inf)
        return max(self._sim, min(running, due))

    def _rebase(self) -> None:
        self._sim = self._now()
        self._real = time.monotonic()

    # -- what the controllers tell it ------------------------------------------------------

    def set_due(self, owner: Hashable, due: float | None) -> None:
        """`owner`'s earliest work is due at `due` (simulated); None: nothing (lock held).
        Unchanged, it wakes nobody: every queue tells its due at each turn of its loop, and a
        wake-up for nothing new made the waiting queues wake each other without end (a core
        of the machine, idle)."""
        if self._dues.get(owner) == due:
            return
        self._rebase()
        if due is None:
            self._dues.pop(owner, None)
        else:
            self._dues[owner] = due
        self.condition.notify_all()

    @contextmanager
    def busy(self) -> Iterator[None]:
        """Time stands still while a controller works."""
        with self.condition:
            self._rebase()
            self._busy += 1
        try:
            yield
        finally:
            with self.condition:
                self._busy -= 1
                self._real = time.monotonic()  # the work's real time never counted
                self.condition.notify_all()

    def wait_until(self, due: float | None) -> None:
        """With the condition held: wait until simulated time reaches `due` (None: until
        notified). Returns early on any notify; callers loop on their own predicate."""
        if due is None:
            self.condition.wait()
            return
        remaining = due - self._now()
        if remaining <= 0:
            return
        if self._held or self._busy:
            self.condition.wait()
        else:
            self.condition.wait(remaining / self.factor)

    def sleep(self, seconds: float, stop: Callable[[], bool]) -> bool:
        """From inside `busy` work: let `seconds` of simulated time pass, idle (time runs).
        True when `stop()` became true instead."""
        owner = object()
        with self.condition:
            target = self._now() + seconds
            self._rebase()
            self._busy -= 1
            self._real = time.monotonic()
            self.set_due(owner, target)
            try:
                while not stop() and self._now() < target:
                    self.wait_until(target)
                return stop()
            finally:
                self.set_due(owner, None)
                self._rebase()
                self._busy += 1

    def wake(self) -> None:
        with self.condition:
            self.condition.notify_all()

    # -- what tests do ---------------------------------------------------------------------

    def hold(self) -> None:
        """Stop time (nothing time-driven happens until `advance` or `release`)."""
        with self.condition:
            self._rebase()
            self._held = True

    def release(self) -> None:
        with self.condition:
            self._real = time.monotonic()
            self._held = False
            self.condition.notify_all()

    @property
    def held(self) -> bool:
        return self._held

    def advance(self, seconds: float) -> None:
        """Move held time forward by `seconds`, one due moment at a time, letting the
        controllers finish each step before the next (bounded in real time)."""
        with self.condition:
            if not self._held:
                raise RuntimeError("advance() needs hold() first")
            target = self._sim + seconds
            while True:
                due = min((d for d in self._dues.values() if d <= target), default=None)
                self._sim = max(self._sim, due if due is not None else target)
                self.condition.notify_all()
                self._settle()
                if due is None or self._sim >= target:
                    self._sim = target
                    self.condition.notify_all()
                    self._settle()
                    return

    def _settle(self) -> None:
        """Wait until no work is running and none is due at the current time."""
        deadline = time.monotonic() + IDLE_BOUND
        while self._busy or any(d <= self._sim for d in self._dues.values()):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the simulated controllers did not settle")
            self.condition.wait(min(left, 0.05))
