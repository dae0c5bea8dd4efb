"""The bot's own workers: work serialised per key (a record, a card) and parallel across keys.

Every outside call after an ack runs here: a listener's command, the runner's advances, a
card's render. Two pieces of work with the same key never run at once and run in the order
they were handed in; work of different keys never waits on each other beyond the thread
bound. A task submitted `once` under a tag is dropped while another of that tag is still
waiting for the key (it would read the same world). With a `precedence`, a task waits to
start while a request that must be answered in time is in flight (slackbot/precedence.py).
Each task runs in a copy of the submitter's context (its log ids). A failing task is logged
with its key and never stops another. No lock here spans two keys.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from slackbot.downtime import is_outage, one_line
from slackbot.precedence import Precedence

log = logging.getLogger(__name__)

Work = Callable[[], object]


@dataclass
class _Queue:
    tasks: deque[tuple[str | None, Work, contextvars.Context]] = field(default_factory=deque)
    tags: set[str] = field(default_factory=set)  # tags of tasks still waiting
    running: bool = False


class Workers:
    def __init__(self, threads: int = 8, name: str = "worker",
                 precedence: Precedence | None = None):
        self._name = name
        self._precedence = precedence
        self._threads_max = threads
        self._cond = threading.Condition()
        self._queues: dict[Hashable, _Queue] = {}
        self._ready: deque[Hashable] = deque()  # keys with waiting work and none running
        self._threads: list[threading.Thread] = []
        self._idle_threads = 0
        self._busy = 0  # tasks running now
        self._stopped = False

    def submit(self, key: Hashable, work: Work, once: str | None = None) -> bool:
        """Queue `work` under `key`; False when it was dropped (stopped, or `once` pending)."""
        context = contextvars.copy_context()
        with self._cond:
            if self._stopped:
                return False
            queue = self._queues.setdefault(key, _Queue())
            if once is not None:
                if once in queue.tags:
                    return False
                queue.tags.add(once)
            queue.tasks.append((once, work, context))
            if not queue.running and len(queue.tasks) == 1:
                self._ready.append(key)
            self._grow()
            self._cond.notify()
        return True

    def _grow(self) -> None:
        """Start a thread when every one is busy and the bound allows (lock held)."""
        if self._idle_threads == 0 and len(self._threads) < self._threads_max:
            thread = threading.Thread(target=self._run, daemon=True,
                                      name=f"{self._name}-{len(self._threads)}")
            self._threads.append(thread)
            thread.start()

    def _take(self) -> tuple[Hashable, Work, contextvars.Context] | None:
        with self._cond:
            while not self._ready:
                if self._stopped:
                    return None
                self._idle_threads += 1
                self._cond.wait()
                self._idle_threads -= 1
            key = self._ready.popleft()
            queue = self._queues[key]
            tag, work, context = queue.tasks.popleft()
            if tag is not None:
                queue.tags.discard(tag)
            queue.running = True
            self._busy += 1
            return key, work, context

    def _done(self, key: Hashable) -> None:
        with self._cond:
            queue = self._queues[key]
            queue.running = False
            self._busy -= 1
            if queue.tasks:
                self._ready.append(key)
                self._cond.notify()
            else:
                del self._queues[key]
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            taken = self._take()
            if taken is None:
                return
            key, work, context = taken
            try:
                if self._precedence is not None:
                    self._precedence.wait_turn()
                context.run(work)
            except Exception as exc:
                if is_outage(exc):  # the service's own outage line said it once
                    log.debug("%s: work on %s met an outage (%s); the next kick or tick "
                              "retries it", self._name, key, one_line(exc), exc_info=True)
                else:
                    log.exception("%s: work on %s failed; the next kick or tick retries it",
                                  self._name, key)
            finally:
                self._done(key)

    def idle(self) -> bool:
        """Nothing running and nothing waiting."""
        with self._cond:
            return self._busy == 0 and not self._ready

    def pending(self) -> int:
        with self._cond:
            return sum(len(q.tasks) for q in self._queues.values()) + self._busy

    def stop(self, wait: bool = True, timeout: float = 10.0) -> None:
        """Take no more work; `wait` lets what was handed in finish first (bounded)."""
        with self._cond:
            if wait:
                self._cond.wait_for(lambda: self._busy == 0 and not self._ready, timeout)
            self._stopped = True
            self._ready.clear()
            self._queues = {k: q for k, q in self._queues.items() if q.running}
            self._cond.notify_all()
        for thread in list(self._threads):
            thread.join(timeout)


class InlineWorkers:
    """Runs each task at once in the caller's thread (tests of the core, and tools): the same
    contract as Workers, minus the threads. A failing task is logged, as there."""

    def submit(self, key: Hashable, work: Work, once: str | None = None) -> bool:
        try:
            work()
        except Exception:
            log.exception("inline work on %s failed", key)
        return True

    def idle(self) -> bool:
        return True
