"""Slack's rate limits for Web API methods: its tiers and the per-channel posting limit
(sandbox.slack.models.SLACK_LIMITS), on unless switched off, and per-channel windows a test
sets to make a limit bite at once.

Slack answers an exceeded limit with HTTP 429, a Retry-After header and
{"ok": false, "error": "ratelimited"}; this module decides when, counts every refusal per
method (what a benchmark reads), and must not know HTTP.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable

from sandbox.slack.models import SLACK_LIMITS, Bucket, RateLimit, SlackError


class RateLimiter:
    def __init__(self, clock: Callable[[], float], limits: Iterable[Bucket] = SLACK_LIMITS) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._limits: dict[str, RateLimit] = {}
        self._calls: dict[tuple[str, str], deque[float]] = {}
        self._buckets: dict[str, Bucket] = {b.method: b for b in limits}
        self._levels: dict[tuple[str, str], tuple[float, float]] = {}  # key -> (level, at)
        self.refused: Counter[str] = Counter()  # 429s answered, per method

    def set(self, limit: RateLimit | None, method: str | None = None) -> None:
        """Installs `limit` for its method, or removes the limit of `method` when None."""
        with self._lock:
            if limit is None:
                if method is not None:
                    self._limits.pop(method, None)
                return
            self._limits[limit.method] = limit
            for key in [k for k in self._calls if k[0] == limit.method]:
                del self._calls[key]

    def enforce(self, limits: Iterable[Bucket]) -> None:
        """Slack's limits to apply from now on (an empty list: none), every bucket full."""
        with self._lock:
            self._buckets = {b.method: b for b in limits}
            self._levels.clear()

    def check(self, method: str, channel: str | None = None) -> None:
        """A call of `method` (in `channel`, for the chat methods): 429 when over a limit.
        Workspace-wide limits are checked without a channel, per-channel ones with it."""
        with self._lock:
            try:
                if channel is not None:
                    self._window(method, channel)
                self._bucket(method, channel)
            except SlackError:
                self.refused[method] += 1
                raise

    def _window(self, method: str, channel: str) -> None:
        limit = self._limits.get(method)
        if limit is None:
            return
        now = self._clock()
        calls = self._calls.setdefault((method, channel), deque())
        while calls and now - calls[0] >= limit.window:
            calls.popleft()
        if len(calls) >= limit.burst:
            wait = max(1, math.ceil(calls[0] + limit.window - now))
            raise SlackError("ratelimited", status=429, headers={"Retry-After": str(wait)})
        calls.append(now)

    def _bucket(self, method: str, channel: str | None) -> None:
        bucket = self._buckets.get(method)
        if bucket is None or bucket.per_channel != (channel is not None):
            return
        now = self._clock()
        key = (method, channel or "")
        rate = bucket.per_minute / 60.0
        level, at = self._levels.get(key, (bucket.capacity, now))
        level = min(bucket.capacity, level + (now - at) * rate)
        if level < 1.0:
            self._levels[key] = (level, now)
            wait = max(1, math.ceil((1.0 - level) / rate))
            raise SlackError("ratelimited", status=429, headers={"Retry-After": str(wait)})
        self._levels[key] = (level - 1.0, now)
