"""GitHub's rate limits as the bot keeps count of them: the primary budget read from every
answer's X-RateLimit-* headers, and the waits GitHub imposes (a spent budget until its reset;
a secondary limit for its Retry-After, or a minute when it names none).

`pace` says how much longer cached answers are trusted once the budget runs low, so the
bot's polling slows before the budget runs out; `wait` is the wait in force, during which no
request is sent at all. Bookkeeping only, on the bot's clock: no HTTP here.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from slackbot.ports import Clock

SECONDARY_WAIT = timedelta(seconds=60)  # GitHub: "wait at least one minute" when it names none
LOW = 0.5  # below this share of the budget left, polling slows down
MOST_PACE = 60.0
SECONDARY_WORDS = ("secondary rate limit", "please retry your request again later",
                   "please wait a few minutes before you try again")


@dataclass(frozen=True)
class Wait:
    """GitHub said: nothing more before `until`."""

    until: datetime
    secondary: bool


@dataclass(frozen=True)
class Standing:
    """The primary budget as the last answer told it (None: no answer carried it yet)."""

    remaining: int | None
    limit: int | None
    reset: datetime | None


def _number(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def is_rate_limit(status: int, headers: Mapping[str, str], message: str) -> bool:
    """A 403 or 429 that is one of GitHub's rate limits (not a permission refusal)."""
    if status not in (403, 429):
        return False
    lowered = message.lower()
    return (status == 429 or "retry-after" in headers
            or lowered.startswith("api rate limit exceeded")
            or any(words in lowered for words in SECONDARY_WORDS)
            or headers.get("x-ratelimit-remaining") == "0")


class RateBudget:
    def __init__(self, clock: Clock):
        self._clock = clock
        self._lock = threading.Lock()
        self._remaining: int | None = None
        self._limit: int | None = None
        self._reset: datetime | None = None
        self._wait: Wait | None = None

    def observe(self, headers: Mapping[str, str]) -> None:
        """Note the budget an answer reports (headers with lower-case names)."""
        remaining = _number(headers, "x-ratelimit-remaining")
        limit = _number(headers, "x-ratelimit-limit")
        reset = _number(headers, "x-ratelimit-reset")
        if headers.get("x-ratelimit-resource", "core") != "core":
            return  # search and graphql budgets are not the REST budget the bot spends
        with self._lock:
            if remaining is not None and limit is not None:
                self._remaining, self._limit = remaining, limit
            if reset is not None:
                self._reset = datetime.fromtimestamp(reset, UTC)

    def refused(self, headers: Mapping[str, str], message: str) -> Wait:
        """GitHub refused for a rate limit: the wait it imposes, now in force."""
        now = self._clock.now()
        secondary = any(words in message.lower() for words in SECONDARY_WORDS)
        retry_after = _number(headers, "retry-after")
        reset = _number(headers, "x-ratelimit-reset")
        if retry_after is not None:
            until = now + timedelta(seconds=max(retry_after, 1))
        elif not secondary and headers.get("x-ratelimit-remaining") == "0" and reset is not None:
            until = max(datetime.fromtimestamp(reset + 1, UTC), now + timedelta(seconds=1))
        else:
            until = now + SECONDARY_WAIT
        wait = Wait(until, secondary)
        with self._lock:
            if self._wait is None or self._wait.until < until:
                self._wait = wait
            if not secondary:
                self._remaining = 0
            return self._wait

    def wait(self) -> Wait | None:
        """The wait in force now, if any."""
        with self._lock:
            if self._wait is not None and self._clock.now() >= self._wait.until:
                self._wait = None
            return self._wait

    def standing(self) -> Standing:
        with self._lock:
            return Standing(self._remaining, self._limit, self._reset)

    def pace(self) -> float:
        """How many times longer to trust what the bot already knows (1: not at all longer).
        Grows as the budget falls below half, so that what is left lasts until the reset."""
        with self._lock:
            remaining, limit, reset = self._remaining, self._limit, self._reset
        if remaining is None or not limit or remaining >= limit * LOW:
            return 1.0
        if reset is not None and reset <= self._clock.now():
            return 1.0  # the budget has been refilled since the last answer
        return min(limit * LOW / max(remaining, 1), MOST_PACE)
