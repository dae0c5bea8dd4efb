"""A keyed, delaying work queue with worker threads, after controller-runtime's workqueue.

A key is never handled by two workers at once; adding a key that is being handled runs it
again afterwards; a key waiting with a later due time is brought forward, never pushed back.
The handler returns the delay (real seconds) before the key should run again, or None. The
queue owns its threads and ends them on stop(); it must not know what a key means.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Hashable

log = logging.getLogger(__name__)

Handler = Callable[[Hashable], "float | None"]


class WorkQueue:
    def __init__(self, name: str, handler: Handler, workers: int = 2) -> None:
        self.name = name
        self._handler = handler
        self._workers = workers
        self._cond = threading.Condition()
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
        """Schedules `key` in `delay` real seconds, unless it is already due sooner."""
        due = time.monotonic() + max(0.0, delay)
        with self._cond:
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
            self._cond.notify()

    def pending(self) -> dict[Hashable, float]:
        """Keys waiting, with seconds until due (for diagnostics and tests)."""
        now = time.monotonic()
        with self._cond:
            return {key: max(0.0, due - now) for key, due in self._due.items()}

    def _next(self) -> Hashable | None:
        with self._cond:
            while not self._stopped:
                while self._heap and self._due.get(self._heap[0][2]) != self._heap[0][0]:
                    heapq.heappop(self._heap)  # stale entry, superseded by an earlier due time
                if self._heap:
                    due, _, key = self._heap[0]
                    wait = due - time.monotonic()
                    if wait <= 0:
                        heapq.heappop(self._heap)
                        del self._due[key]
                        self._active.add(key)
                        return key
                    self._cond.wait(wait)
                else:
                    self._cond.wait()
            return None

    def _run(self) -> None:
        while True:
            key = self._next()
            if key is None:
                return
            requeue: float | None = None
            try:
                requeue = self._handler(key)
            except Exception:  # a controller bug must not kill the worker
                log.exception("%s: handling %r failed", self.name, key)
                requeue = 1.0
            with self._cond:
                self._active.discard(key)
                again = self._again.pop(key, None)
            if again is not None:
                self.add_after(key, again - time.monotonic())
            if requeue is not None:
                self.add_after(key, requeue)
