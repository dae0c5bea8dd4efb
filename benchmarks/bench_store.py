"""Figures for the Redis store: compare-and-set transition latency and contended throughput.

Run: .venv/bin/python -m benchmarks.bench_store   (starts its own redis-server on a free port)
Prints figures; asserts nothing.
"""

from __future__ import annotations

import statistics
import threading
import time
from datetime import UTC, datetime

from slackbot.adapters.redis_store import RedisStore, open_redis
from slackbot.errors import ConcurrentUpdate
from slackbot.events import Event, PullOpened, Requested
from slackbot.models import Kind, Promotion, State
from tests.redis_server import redis_server

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


OPENED = PullOpened(1, "https://github.test/bench/pull/1")


def _new(store: RedisStore, env: str) -> Promotion:
    p = Promotion(id=store.next_id(), kind=Kind.PROMOTION, app="bench", env=env,
                  source_branch="dev", target_branch=env, requested_by="U1", requested_at=NOW)
    return store.create(p, Event(p.id, "bench", env, "U1", NOW, Requested()))


def latency(store: RedisStore, rounds: int = 500) -> list[float]:
    samples = []
    for i in range(rounds):
        p = _new(store, f"env{i}")
        start = time.perf_counter()
        store.transition(p, Event(p.id, "bench", p.env, "U1", NOW, OPENED), State.PR_OPEN)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def contended(store: RedisStore, threads: int = 20, rounds: int = 50) -> tuple[int, int, float]:
    wins = losses = 0
    lock = threading.Lock()
    start = time.perf_counter()
    for r in range(rounds):
        p = _new(store, f"race{r}")
        barrier = threading.Barrier(threads)

        def go(p: Promotion = p, barrier: threading.Barrier = barrier) -> None:
            nonlocal wins, losses
            barrier.wait()
            try:
                store.transition(p, Event(p.id, "bench", p.env, "U", NOW, OPENED),
                                 State.PR_OPEN)
                with lock:
                    wins += 1
            except ConcurrentUpdate:
                with lock:
                    losses += 1

        workers = [threading.Thread(target=go) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    return wins, losses, time.perf_counter() - start


def main() -> None:
    with redis_server() as url:
        for name, client in (("redis-server", open_redis(url)), ("embedded", open_redis(None))):
            store = RedisStore(client, prefix="bench:")
            samples = latency(store)
            q = statistics.quantiles(samples, n=100)
            print(f"{name}: transition latency over {len(samples)}: p50 {q[49]:.2f} ms, "
                  f"p99 {q[98]:.2f} ms")
            wins, losses, seconds = contended(store)
            print(f"{name}: 20 writers x 50 transitions: {wins} won, {losses} lost "
                  f"(exactly one per transition: {wins == 50}), {seconds:.2f} s")


if __name__ == "__main__":
    main()
