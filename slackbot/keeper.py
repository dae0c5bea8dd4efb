"""Keeps the env locks this process holds alive, and only those: a lock's time to live is the
leader lease's, renewed every third of it while its holder works.

So a lock lives exactly as long as the process that took it: a replica killed mid-merge stops
renewing, and its locks are free within the lease time (not a minute later), for whichever
replica picks the record up. A renewal that fails means the lock was taken over (a pause
longer than the TTL): the fence makes every later write of the old holder fail, so nothing
more is needed here than to stop renewing it. One thread; no decision about records.
"""

from __future__ import annotations

import logging
import threading

from slackbot.downtime import Downtime
from slackbot.ports import Fence, Store

log = logging.getLogger(__name__)


class LockKeeper:
    def __init__(self, store: Store, ttl_seconds: float):
        self._store = store
        self.ttl_ms = int(ttl_seconds * 1000)
        self._interval = ttl_seconds / 3
        self._downtime = Downtime("Redis (env lock renewal)", log)
        self._held: set[Fence] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def hold(self, fence: Fence) -> None:
        with self._lock:
            self._held.add(fence)

    def drop(self, fence: Fence) -> None:
        with self._lock:
            self._held.discard(fence)

    def held(self) -> set[Fence]:
        with self._lock:
            return set(self._held)

    def renew(self) -> None:
        """Extend every lock still held; forget those that were lost."""
        downtime = self._downtime
        for fence in self.held():
            try:
                kept = self._store.extend(fence, self.ttl_ms)
            except Exception as exc:  # Redis away: the next round tries again (the TTL is three)
                downtime.failed(exc)  # logged once an outage
                continue
            downtime.answered()
            if not kept:
                log.warning("lock on %s/%s (token %s) was lost; its holder can no longer write",
                            fence.app, fence.env, fence.token)
                self.drop(fence)

    def start(self) -> LockKeeper:
        self._thread = threading.Thread(target=self._run, name="lock-keeper", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.renew()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
