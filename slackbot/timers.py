"""Work handed in later: `Later.after(seconds, key, work, once)` submits `work` to the bot's
workers when its time comes, from one timer thread.

For waits that must not hold a worker: a card whose Slack method is paced or rate limited, a
render to try again after a failure. A task waiting here under a `once` tag makes a second one
of the same (key, tag) a no-op until it was handed in (the later one would read the same
world). It runs nothing itself and never blocks the submitter.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Hashable

from slackbot.engine.runner import Submit

log = logging.getLogger(__name__)

Work = Callable[[], object]


class Later:
    def __init__(self, submit: Submit, clock: Callable[[], float] = time.monotonic,
                 name: str = "later"):
        self._submit = submit
        self._clock = clock
        self._name = name
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Hashable, Work, str | None]] = []
        self._waiting: set[tuple[Hashable, str]] = set()
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def after(self, seconds: float, key: Hashable, work: Work, once: str | None = None) -> bool:
        """Submit `work` under `key` in `seconds`; False when a (key, once) was waiting."""
        with self._cond:
            if self._stopped:
                return False
            if once is not None:
                if (key, once) in self._waiting:
                    return False
                self._waiting.add((key, once))
            heapq.heappush(self._heap, (self._clock() + max(seconds, 0.0), next(self._seq),
                                        key, work, once))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._cond.notify()
        return True

    def pending(self) -> int:
        with self._cond:
            return len(self._heap)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._heap
                                             or self._heap[0][0] > self._clock()):
                    timeout = self._heap[0][0] - self._clock() if self._heap else None
                    self._cond.wait(timeout)
                if self._stopped:
                    return
                _, _, key, work, once = heapq.heappop(self._heap)
                if once is not None:
                    self._waiting.discard((key, once))
            try:
                self._submit(key, work, once)
            except Exception:
                log.exception("%s: handing in work on %s failed", self._name, key)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._waiting.clear()
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
