"""A keyed, delaying work queue with worker threads, after controller-runtime's workqueue.

A key is never handled by two workers at once; adding a key that is being handled runs it
again afterwards; a key waiting with a later due time is brought forward, never pushed back.
Due times are simulated seconds on the simulator's clock (sandbox/flux/clock.py), which the
queue tells of its earliest one, and a handler runs as the clock's busy work. The handler
returns the delay (simulated seconds) before the key should run again, or None. The queue owns
its threads and ends them on stop(); it must not know what a key means.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Hashable

from sandbox.flux.clock import SimClock

log = logging.getLogger(__name__)

Handler = Callable[[Hashable], "float | None"]


class WorkQueue:
    def __init__(self, name: str, handler: Handler, clock: SimClock, workers: int = 2) -> None:
        self.name = name
        self._handler = handler
        self._workers = workers
        self._clock = clock
        self._cond = clock.condition
        self._heap: list[tuple[float, int, Hashable]] = []
        self._due: dict[Hashable, float] = {}
        self._active: set[Hashable] = set()
        self._again: dict[Hashable, float] = {}
        self._seq = itertools.count()
        self._threads: list[threading.Thread] = []
        self._stopped = False

    def start(self) -> None:
        for index in range(self._workers):
            thread = threading.Thread(target=self._run, name=f"{self.name}-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._due.clear()
            self._clock.set_due(self, None)
            self._cond.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()

    @property
    def stopped(self) -> bool:
        return self._stopped

    def add(self, key: Hashable) -> None:
        self.add_after(key, 0.0)

    def add_after(self, key: Hashable, delay: float) -> None:
        """Schedules `key` in `delay` simulated seconds, unless it is already due sooner."""
        with self._cond:
            due = self._clock.now() + max(0.0, delay)
            if self._stopped:
                return
            if key in self._active:
                if key not in self._again or due < self._again[key]:
                    self._again[key] = due
                return
            if key in self._due and self._due[key] <= due:
                return
            self._due[key] = due
            heapq.heappush(self._heap, (due, next(self._seq), key))
            self._tell_clock()
            self._cond.notify_all()

    def _tell_clock(self) -> None:
        """The clock must not run past our earliest due key (lock held) while a worker is free
        to take it. With every worker holding a key (health checks sleeping on the clock, as
        Flux's --concurrent workers do), a due key cannot be taken anyway: holding time for it
        would stop the very sleeps that free a worker."""
        while self._heap and self._due.get(self._heap[0][2]) != self._heap[0][0]:
            heapq.heappop(self._heap)  # stale entry, superseded by an earlier due time
        free = len(self._active) < self._workers
        self._clock.set_due(self, self._heap[0][0] if self._heap and free else None)

    def pending(self) -> dict[Hashable, float]:
        """Keys waiting, with simulated seconds until due (for diagnostics and tests)."""
        with self._cond:
            now = self._clock.now()
            return {key: max(0.0, due - now) for key, due in self._due.items()}

    def _next(self) -> Hashable | None:
        with self._cond:
            while not self._stopped:
                self._tell_clock()
                if self._heap:
                    due, _, key = self._heap[0]
                    if due <= self._clock.now():
                        heapq.heappop(self._heap)
                        del self._due[key]
                        self._active.add(key)
                        self._tell_clock()
                        return key
                    self._clock.wait_until(due)
                else:
                    self._clock.wait_until(None)
            return None

    def _run(self) -> None:
        while True:
            key = self._next()
            if key is None:
                return
            requeue: float | None = None
            try:
                with self._clock.busy():
                    requeue = self._handler(key)
            except Exception:  # a controller bug must not kill the worker
                log.exception("%s: handling %r failed", self.name, key)
                requeue = 1.0
            with self._cond:
                self._active.discard(key)
                self._tell_clock()  # a worker is free again: its due keys hold time again
                again = self._again.pop(key, None)
                now = self._clock.now()
            if again is not None:
                self.add_after(key, again - now)
            if requeue is not None:
                self.add_after(key, requeue)
