"""App Home: who looked at it, and re-publishing the one dashboard to them when a record changes.

The viewers live in the store (any replica refreshes every viewer; a restart forgets none),
bounded there, and a viewer who has not opened the tab for `viewer_ttl` is dropped. A refresh
is coalesced on the bot's workers: many changes in a burst cost one status read and one
views.publish per viewer; the status itself is one shared view per app (slackbot/status.py),
told by `changed` that something moved, so ten viewers opening the tab read GitHub once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta

from slack_sdk import WebClient

from handlers import blocks, stats
from handlers.background import reference
from slackbot.dora import Figures
from slackbot.engine.runner import Submit
from slackbot.ports import Clock, Store
from slackbot.status import AppStatus

log = logging.getLogger(__name__)

Statuses = Callable[[], Sequence[AppStatus | str]]
HOME = "home"  # the workers' key of App Home work


def read_statuses(status_of: Callable[[str], AppStatus],
                  apps: Sequence[str]) -> list[AppStatus | str]:
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
    def __init__(self, client: WebClient, store: Store, statuses: Statuses, submit: Submit,
                 clock: Clock, viewer_ttl: timedelta = timedelta(days=1),
                 changed: Callable[[], None] | None = None,
                 delivery: Callable[[], Sequence[Figures]] | None = None):
        self._changed = changed or (lambda: None)
        self._delivery = delivery
        self._client = client
        self._store = store
        self._statuses = statuses
        self._submit = submit
        self._clock = clock
        self._ttl = viewer_ttl

    def opened(self, user: str) -> None:
        """The user opened the Home tab: remember them, and show them the dashboard soon."""
        self._store.add_viewer(user, self._clock.now())
        self._submit((HOME, user), lambda: self._publish(user), "publish")

    def refresh(self) -> None:
        """A record, Flux or GitHub changed: re-publish for every recent viewer (coalesced)."""
        self._changed()
        self._submit(HOME, self._publish_all, "refresh")

    def _publish(self, user: str) -> None:
        self._client.views_publish(user_id=user, view=self._view())

    def _view(self) -> blocks.Json:
        return blocks.home_view(self._statuses(), self._delivery_blocks())

    def _delivery_blocks(self) -> list[blocks.Json]:
        """The DORA figures' section (kept a minute by slackbot/delivery.py); none when they
        cannot be read, so App Home still shows the envs."""
        if self._delivery is None:
            return []
        try:
            return stats.home_blocks(self._delivery())
        except Exception:
            log.exception("home: the delivery figures failed (reference %s)", reference())
            return []

    def _publish_all(self) -> None:
        since = self._clock.now() - self._ttl
        self._store.forget_viewers(since)
        viewers = self._store.viewers(since)
        if not viewers:
            return
        view = self._view()
        for user in viewers:
            try:
                self._client.views_publish(user_id=user, view=view)
            except Exception:
                log.exception("home: publishing for %s failed (reference %s)", user, reference())
