"""Figures for the DORA read: one fresh read of every env's finished records over 90 days
(slackbot/delivery.py over RedisStore.finished) and the pure counting, at a history size.

Run: .venv/bin/python -m benchmarks.bench_dora [records-per-env]   (its own redis-server)
Prints figures; asserts nothing.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from slackbot import dora
from slackbot.adapters.redis_store import RedisStore, open_redis
from slackbot.delivery import Delivery
from slackbot.events import Deployed, Event, Requested
from slackbot.models import Kind, Promotion, State
from tests.redis_server import redis_server

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
ENVS = [("bench", "dev"), ("bench", "staging"), ("bench", "prod")]


class _Clock:
    def now(self) -> datetime:
        return NOW


class _Counted:
    """The store, with its calls counted (each is one Redis round trip or one pipeline)."""

    def __init__(self, store: RedisStore):
        self.store, self.calls = store, 0

    def __getattr__(self, name: str) -> Any:
        self.calls += 1
        return getattr(self.store, name)


def seed(store: RedisStore, per_env: int) -> None:
    step = timedelta(days=90) / per_env
    for app, env in ENVS:
        for i in range(per_env):
            at = NOW - step * i
            kind = Kind.ROLLBACK if i % 10 == 0 else Kind.PROMOTION
            p = Promotion(id=store.next_id(), kind=kind, app=app, env=env, source_branch="x",
                          target_branch=env, requested_by="U1", requested_at=at - timedelta(
                              hours=1), state=State.RECONCILING, merge_sha="b" * 40,
                          merged_at=at - timedelta(minutes=5),
                          first_commit_at=at - timedelta(hours=6))
            p = store.create(p, Event(p.id, app, env, "U1", at, Requested()))
            store.transition(p, Event(p.id, app, env, "U1", at, Deployed("b" * 40)),
                             State.DEPLOYED, finished_at=at)


def main() -> None:
    per_env = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with redis_server() as url:
        store = RedisStore(open_redis(url), prefix="bench:")
        seed(store, per_env)
        counted = _Counted(store)
        delivery = Delivery(counted, _Clock(), ENVS)  # type: ignore[arg-type]
        start = time.perf_counter()
        rows = delivery.figures(fresh=True)
        read_ms = (time.perf_counter() - start) * 1000
        records = [r for a, e in ENVS
                   for r in store.finished(a, e, NOW - timedelta(days=91), NOW)]
        start = time.perf_counter()
        dora.report(records, ENVS, NOW)
        pure_ms = (time.perf_counter() - start) * 1000
        calls = counted.calls
        start = time.perf_counter()
        delivery.figures()
        kept_ms = (time.perf_counter() - start) * 1000
        print(f"{per_env} records per env x {len(ENVS)} envs over 90 days")
        print(f"fresh read + count: {read_ms:.0f} ms, {calls} store calls "
              f"({len(ENVS)} finished + 1 live_all)")
        print(f"pure counting alone: {pure_ms:.0f} ms; a kept read: {kept_ms:.3f} ms, "
              f"{counted.calls - calls} store calls")
        prod90 = next(r for r in rows if r.env == "prod" and r.days == 90)
        print(f"prod 90d: {prod90.deploys} deploys, failure rate {prod90.failure_rate:.2f}")


if __name__ == "__main__":
    main()
