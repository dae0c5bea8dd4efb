"""Plain data the Slack emulator is built from: users, channels, user groups, rate limits.

These are the construction arguments of `SlackEmulator` and the error type its methods raise.
They hold no behaviour beyond formatting themselves as Slack's JSON shapes; they must not
know about HTTP or about the bot.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

TEAM_ID = "T0SANDBOX"
TEAM_DOMAIN = "sandbox"
TEAM_NAME = "Sandbox"
APP_ID = "A0SANDBOX"
BOT_ID = "B0SANDBOX"
SLACKBOT_USER_ID = "USLACKBOT"
# Slack sends this deprecated verification token in every payload; Bolt ignores it.
VERIFICATION_TOKEN = "sandbox-verification-token"


class SlackError(Exception):
    """A Slack-level failure: becomes HTTP `status` with `{"ok": false, "error": code}`."""

    def __init__(
        self,
        code: str,
        status: int = 200,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error": self.code, **self.extra}


@dataclass(frozen=True)
class SlackUser:
    id: str
    name: str
    real_name: str = ""
    is_bot: bool = False
    tz: str = "Europe/Berlin"

    def to_api(self) -> dict[str, Any]:
        real_name = self.real_name or self.name
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "deleted": False,
            "real_name": real_name,
            "tz": self.tz,
            "is_admin": False,
            "is_owner": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "profile": {
                "real_name": real_name,
                "display_name": self.name,
                "real_name_normalized": real_name,
                "display_name_normalized": self.name,
                "team": TEAM_ID,
            },
        }


@dataclass(frozen=True)
class SlackChannel:
    id: str
    name: str
    members: tuple[str, ...] | list[str] = ()
    is_private: bool = False
    bot_is_member: bool = True
    topic: str = ""
    purpose: str = ""
    is_im: bool = False  # the bot's direct conversation with one user (`name` is their id)


@dataclass(frozen=True)
class SlackUserGroup:
    id: str
    handle: str
    users: tuple[str, ...] | list[str] = ()
    name: str = ""


@dataclass(frozen=True)
class RateLimit:
    """At most `burst` calls of `method` per channel within `window` seconds, then 429."""

    method: str = "chat.postMessage"
    burst: int = 1
    window: float = 1.0


@dataclass(frozen=True)
class Bucket:
    """Slack's own limit of a method: a bucket of `capacity` calls refilled at `per_minute`,
    counted per channel (the posting limit) or per workspace (the tiers)."""

    method: str
    per_minute: float
    capacity: float
    per_channel: bool = False


# Slack's Web API tiers ("per API method per app per workspace", bursts tolerated): Tier 2 is
# 20+ a minute, Tier 3 50+, Tier 4 100+; chat.postMessage is special: about one message a
# second per channel, short bursts allowed. The emulator counts them as buckets, full at start.
TIER_2, TIER_3, TIER_4 = 20, 50, 100
SLACK_LIMITS: tuple[Bucket, ...] = (
    Bucket("chat.postMessage", 60, 3, per_channel=True),
    *(Bucket(m, TIER_3, TIER_3) for m in ("chat.update", "chat.delete", "conversations.info",
                                          "conversations.history", "conversations.replies")),
    *(Bucket(m, TIER_4, TIER_4) for m in ("chat.postEphemeral", "views.open", "views.push",
                                          "views.update", "views.publish", "users.info")),
    Bucket("usergroups.users.list", TIER_2, TIER_2),
)


class TsClock:
    """Issues Slack message timestamps ("1700000000.000100"), strictly increasing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def next(self) -> str:
        with self._lock:
            now = time.time_ns() // 1000
            self._last = max(now, self._last + 1)
            seconds, micros = divmod(self._last, 1_000_000)
            return f"{seconds}.{micros:06d}"


@dataclass
class Counter:
    """Thread-safe sequence for ids such as V0000001 or trigger ids."""

    value: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self) -> int:
        with self.lock:
            self.value += 1
            return self.value
