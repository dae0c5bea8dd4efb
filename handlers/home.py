"""App Home: who opened it, and re-publishing the one dashboard to them when a record changes.

The viewers are a Redis set (the store's client; DESIGN.md section 3: no process-local state a
restart cannot rebuild), so any replica refreshes every viewer. A refresh is coalesced: many
changes in a burst cost one status read and one views.publish per viewer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from slack_sdk import WebClient

from handlers import blocks
from handlers.background import Defer, reference, run_now
from slackbot.status import AppStatus

log = logging.getLogger(__name__)

Statuses = Callable[[], Sequence[AppStatus | str]]


class SetClient(Protocol):
    """The two Redis commands the viewer list needs (a redis.Redis satisfies it)."""

    def sadd(self, name: str, *values: Any) -> Any: ...
    def smembers(self, name: str) -> Any: ...


class HomeViewers:
    def __init__(self, client: SetClient, key: str = "promotebot:home:viewers"):
        self._client = client
        self._key = key

    def add(self, user: str) -> None:
        self._client.sadd(self._key, user)

    def all(self) -> list[str]:
        return sorted(str(u) for u in self._client.smembers(self._key))


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
