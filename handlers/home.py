"""App Home: who opened it, and re-publishing the one dashboard to them when a record changes.

The viewers are a Redis sorted set scored by when each last opened the tab (the store's client;
DESIGN.md section 3: no process-local state a restart cannot rebuild), so any replica refreshes
every viewer. It is bounded and pruned: the most recent `limit` viewers of the last
`ttl_seconds` only, so no stream of app_home_opened events can grow it or the views.publish
calls of a refresh. A refresh is coalesced: many changes in a burst cost one status read and
one views.publish per viewer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from slack_sdk import WebClient

from handlers import blocks
from handlers.background import Defer, reference, run_now
from slackbot.status import AppStatus

log = logging.getLogger(__name__)

Statuses = Callable[[], Sequence[AppStatus | str]]


VIEWERS_LIMIT = 100  # views.publish is Tier 4 (100+ per minute): one refresh stays in it
VIEWERS_TTL_SECONDS = 7 * 24 * 3600  # who has not opened the tab for a week sees it on opening


class SortedSetClient(Protocol):
    """The Redis commands the viewer list needs (a redis.Redis satisfies it)."""

    def zadd(self, name: str, mapping: Any) -> Any: ...
    def zremrangebyscore(self, name: str, min: Any, max: Any) -> Any: ...
    def zremrangebyrank(self, name: str, min: int, max: int) -> Any: ...
    def zrangebyscore(self, name: str, min: Any, max: Any) -> Any: ...
    def type(self, name: str) -> Any: ...
    def smembers(self, name: str) -> Any: ...
    def delete(self, *names: str) -> Any: ...


class HomeViewers:
    def __init__(self, client: SortedSetClient, key: str = "promotebot:home:viewers", *,
                 limit: int = VIEWERS_LIMIT, ttl_seconds: float = VIEWERS_TTL_SECONDS,
                 clock: Callable[[], float] = time.time):
        self._client = client
        self._key = key
        self._limit = limit
        self._ttl = ttl_seconds
        self._clock = clock
        self._checked = False

    def add(self, user: str) -> None:
        """Remember that `user` opened the tab now; drop the stale and the surplus."""
        self._upgrade()
        now = self._clock()
        self._client.zadd(self._key, {user: now})
        self._client.zremrangebyscore(self._key, "-inf", now - self._ttl)
        self._client.zremrangebyrank(self._key, 0, -(self._limit + 1))  # keep the newest

    def all(self) -> list[str]:
        self._upgrade()
        fresh = self._client.zrangebyscore(self._key, self._clock() - self._ttl, "+inf")
        return sorted(str(u) for u in fresh)

    def _upgrade(self) -> None:
        """A list written by an older version as a plain set becomes the sorted set (its
        viewers count as seen now). Checked once per process."""
        if self._checked:
            return
        kind = self._client.type(self._key)
        if kind in ("set", b"set"):
            members = [str(m) for m in self._client.smembers(self._key)]
            self._client.delete(self._key)
            if members:
                now = self._clock()
                self._client.zadd(self._key, dict.fromkeys(members[: self._limit], now))
        self._checked = True


def read_statuses(
    status_of: Callable[[str], AppStatus], apps: Sequence[str]
) -> list[AppStatus | str]:
    """Every app's status; an app whose read failed is named instead (the view says so)."""
    found: list[AppStatus | str] = []
    for name in apps:
        try:
            found.append(status_of(name))
        except Exception:
            log.exception("home: the status of %s failed (reference %s)", name, reference())
            found.append(name)
    return found


class HomePublisher:
    def __init__(
        self, client: WebClient, viewers: HomeViewers, statuses: Statuses, defer: Defer = run_now
    ):
        self._client = client
        self._viewers = viewers
        self._statuses = statuses
        self._defer = defer
        self._lock = threading.Lock()
        self._queued = False

    def opened(self, user: str) -> None:
        """The user opened the Home tab: remember them and show them the dashboard now."""
        self._viewers.add(user)
        self._client.views_publish(user_id=user, view=blocks.home_view(self._statuses()))

    def refresh(self) -> None:
        """A record changed: re-publish for every viewer (coalesced, via `defer`)."""
        with self._lock:
            if self._queued:
                return
            self._queued = True
        self._defer(self._publish_all)

    def _publish_all(self) -> None:
        with self._lock:
            self._queued = False
        viewers = self._viewers.all()
        if not viewers:
            return
        view = blocks.home_view(self._statuses())
        for user in viewers:
            try:
                self._client.views_publish(user_id=user, view=view)
            except Exception:
                log.exception("home: publishing for %s failed (reference %s)", user, reference())
