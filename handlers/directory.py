"""SlackDirectory: the Directory port over Slack user groups (usergroups.users.list).

Membership is cached per group for a short TTL (default 60 s), so a burst of clicks costs one
Web API call while a change in the group still shows within a minute. A Slack failure becomes
an AdapterError chained from the SDK's: the engine never sees slack_sdk types.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from slackbot.errors import AdapterError


class SlackDirectory:
    def __init__(
        self,
        client: WebClient,
        ttl_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._client = client
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}

    def is_member(self, group: str, user: str) -> bool:
        return user in self.members(group)

    def members(self, group: str) -> frozenset[str]:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(group)
            if cached is not None and now - cached[0] < self._ttl:
                return cached[1]
        try:
            response = self._client.usergroups_users_list(usergroup=group)
        except SlackApiError as exc:
            raise AdapterError(
                f"Slack could not list user group {group}: {exc.response.get('error')}"
            ) from exc
        except (SlackClientError, OSError) as exc:
            raise AdapterError(f"Slack could not be reached to list user group {group}") from exc
        users = frozenset(str(u) for u in response.get("users") or [])
        with self._lock:
            self._cache[group] = (now, users)
        return users

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()
