"""The DORA figures of the pipeline's envs, read from the store and kept for a short while.

`/promote stats`, App Home and every Prometheus scrape ask for them; one read of the finished
records of each env (bounded: the longest window, at most `limit` records an env) serves them
all for `ttl`, so a scrape every 15 s is not a Redis scan each time. The counting is
slackbot/dora.py; this module only reads and caches, and never writes.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta

from slackbot import dora
from slackbot.dora import Figures
from slackbot.models import Promotion
from slackbot.ports import Clock, Store


class Delivery:
    def __init__(self, store: Store, clock: Clock, envs: Sequence[tuple[str, str]],
                 ttl: timedelta = timedelta(seconds=60),
                 failure_window: timedelta = dora.FAILURE_WINDOW,
                 windows: Sequence[int] = dora.WINDOWS, limit: int = 5000):
        self._store = store
        self._clock = clock
        self._envs = tuple(envs)
        self._ttl = ttl
        self.failure_window = failure_window
        self.windows = tuple(windows)
        self._limit = limit
        self._lock = threading.Lock()
        self._kept: tuple[datetime, tuple[Figures, ...]] | None = None
        self.reads = 0  # how many times the store was read (benchmarks and tests count them)

    def figures(self, app: str | None = None, fresh: bool = False) -> tuple[Figures, ...]:
        """Every (app, env) and window (of `app` only, when given), in the pipeline's order;
        `fresh`: read now (a person asked), else what was read within `ttl`."""
        now = self._clock.now()
        with self._lock:
            kept = self._kept
            if fresh or kept is None or not (kept[0] <= now < kept[0] + self._ttl):
                kept = (now, self._read(now))
                self._kept = kept
        return tuple(f for f in kept[1] if app is None or f.app == app)

    def _read(self, now: datetime) -> tuple[Figures, ...]:
        self.reads += 1
        since = now - timedelta(days=max(self.windows)) - self.failure_window
        records: dict[int, Promotion] = {}
        for app, env in self._envs:
            for record in self._store.finished(app, env, since, now, self._limit):
                records[record.id] = record
        for record in self._store.live_all():  # a rollback under way is a failure not restored
            records.setdefault(record.id, record)
        return dora.report(records.values(), self._envs, now, self.windows, self.failure_window)
