"""The simulator's work queue on its clock: more keys than workers, each holding its worker in a
sleep on the clock (as a health check does), still all finish: a key that no worker can take
does not stop the clock the sleeping workers wait on. Idle queues wake nobody."""

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


class CountingCondition(threading.Condition):
    """The clock's condition, counting the wake-ups it is asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.wakeups = 0

    def notify(self, n: int = 1) -> None:
        self.wakeups += 1
        super().notify(n)


def test_idle_queues_wake_nobody() -> None:
    # every queue tells the clock its due at each turn of its loop; an unchanged due once
    # woke every waiter, whose own turn woke the others again: a core burnt, idle
    clock = SimClock(factor=60.0)
    clock.condition = CountingCondition()
    queues = [WorkQueue(f"idle-{i}", lambda key: None, clock, workers=2) for i in range(2)]
    for queue in queues:
        queue.start()
    try:
        threading.Event().wait(0.5)  # four workers with nothing due: they only wait
        with clock.condition:
            assert clock.condition.wakeups == 0
    finally:
        for queue in queues:
            queue.stop()
