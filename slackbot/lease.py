"""The leader lease: of all replicas sharing one Redis, exactly one runs the shared Flux watch
and the scheduled gate polling .

Built on the store's fenced lock: the leader renews its lease well within the lease's time to
live; a leader that dies stops renewing and another replica takes over when the lease expires.
A renewal that fails means the lease was lost (a pause longer than the TTL): the replica stops
leading at once. Every replica keeps answering Slack; only the background duties move.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from slackbot.downtime import Downtime
from slackbot.ports import Fence, Store

log = logging.getLogger(__name__)

LEASE = ("_promotebot", "leader")  # the lock's (app, env) key, outside any real app


class LeaderLease:
    def __init__(self, store: Store, owner: str, *, ttl_seconds: float = 15.0,
                 on_gain: Callable[[], None], on_lose: Callable[[], None],
                 on_renew: Callable[[], object] | None = None,
                 on_store_back: Callable[[], object] | None = None):
        self._store = store
        self.owner = owner
        self._ttl_ms = int(ttl_seconds * 1000)
        self._interval = ttl_seconds / 3
        self._on_gain = on_gain
        self._on_lose = on_lose
        self._on_renew = on_renew  # each round the lease is held (the leader's small duties)
        self._on_store_back = on_store_back  # Redis answers again after failing to
        self._store_failing = False
        self._downtime = Downtime("Redis (the leader lease)", log)
        self._fence: Fence | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def leading(self) -> bool:
        return self._fence is not None

    def run_once(self) -> bool:
        """Acquire or renew the lease; call the hooks on a change. True while leading."""
        if self._fence is not None:
            if self._store.extend(self._fence, self._ttl_ms):
                return True
            log.warning("leader lease lost by %s; stopping the shared watch and the poll",
                        self.owner)
            self._fence = None
            self._on_lose()
            return False
        fence = self._store.acquire(*LEASE, self.owner, self._ttl_ms)
        if fence is None:
            return False
        self._fence = fence
        log.info("%s leads (lease token %s): it runs the shared watch and the poll",
                 self.owner, fence.token)
        self._on_gain()
        return True

    def start(self) -> LeaderLease:
        self.run_once()
        self._thread = threading.Thread(target=self._run, name="leader-lease", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                leading = self.run_once()
            except Exception as exc:  # Redis away: keep trying; the lease expires on its own
                self._downtime.failed(exc)  # logged once an outage; renewing keeps its pace
                self._store_failing = True
                continue
            self._downtime.answered()
            for hook, due in ((self._on_store_back, self._store_failing),
                              (self._on_renew, leading)):
                if hook is not None and due:
                    try:
                        hook()
                    except Exception:
                        log.exception("leader lease: a duty of the lease failed")
            self._store_failing = False

    def stop(self) -> None:
        """Step down: hand the lease over at once instead of letting it expire."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._fence is not None:
            fence, self._fence = self._fence, None
            self._on_lose()
            self._store.release(fence)
