"""The simulator's work queue on its clock: more keys than workers, each holding its worker in a
sleep on the clock (as a health check does), still all finish: a key that no worker can take
does not stop the clock the sleeping workers wait on."""

from __future__ import annotations

import threading
from collections.abc import Hashable

from sandbox.flux.clock import SimClock
from sandbox.flux.workqueue import WorkQueue
from tests.waiting import wait_for


def test_keys_beyond_the_workers_do_not_stop_the_clock_of_sleeping_workers() -> None:
    clock = SimClock(factor=1000.0)
    stop = threading.Event()
    done: list[Hashable] = []
    lock = threading.Lock()

    def handle(key: Hashable) -> float | None:
        clock.sleep(5.0, stop.is_set)  # a health check waiting on simulated time
        with lock:
            done.append(key)
        return None

    queue = WorkQueue("test", handle, clock, workers=2)
    queue.start()
    try:
        for key in range(6):
            queue.add(key)
        wait_for(lambda: len(done) == 6, "every key handled by two sleeping workers")
        assert sorted(done) == list(range(6))  # type: ignore[type-var]
        assert clock.now() >= 15.0  # three rounds of two five-second sleeps
    finally:
        stop.set()
        clock.wake()
        queue.stop()
