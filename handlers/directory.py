"""SlackDirectory: the Directory port over Slack user groups (usergroups.users.list) and
profiles (users.info, for the names the bot writes into GitHub).

Membership is cached per group for a short TTL (default 60 s), so a burst of clicks costs one
Web API call while a change in the group still shows within a minute; names likewise. A Slack
failure becomes an AdapterError chained from the SDK's: the engine never sees slack_sdk types
(a name that cannot be read is the id itself).
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
        self._names: dict[str, tuple[float, str]] = {}

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

    def name(self, user: str) -> str:
        """The display name (else the real name, else the handle); the id when Slack does not
        answer: a name only decorates a text, it never decides anything."""
        now = self._clock()
        with self._lock:
            cached = self._names.get(user)
            if cached is not None and now - cached[0] < self._ttl:
                return cached[1]
        try:
            found = self._client.users_info(user=user).get("user") or {}
        except (SlackApiError, SlackClientError, OSError):
            return user
        profile = found.get("profile") or {}
        name = str(profile.get("display_name") or found.get("real_name") or found.get("name")
                   or user)
        with self._lock:
            self._names[user] = (now, name)
        return name

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()
            self._names.clear()
