"""Per-channel rate limits for Web API methods, off by default, switched on by tests.

Slack answers an exceeded limit with HTTP 429, a Retry-After header and
{"ok": false, "error": "ratelimited"}; this module decides when, and must not know HTTP.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable

from sandbox.slack.models import RateLimit, SlackError


class RateLimiter:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._limits: dict[str, RateLimit] = {}
        self._calls: dict[tuple[str, str], deque[float]] = {}

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

    def check(self, method: str, channel: str) -> None:
        with self._lock:
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
