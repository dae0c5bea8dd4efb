"""GitHub's primary rate limit: a budget of requests per hour for each user token and each App
installation, in a window that starts at the first request and resets an hour later on the
emulator's clock.

Every answer carries X-RateLimit-Limit/Remaining/Used/Reset/Resource. When the budget is spent,
requests get 403 (or 429, `exhausted_status`) "API rate limit exceeded for user ID n." with
`x-ratelimit-remaining: 0` until the reset. A 304 answer to a conditional request and
GET /rate_limit are free, as on GitHub. No routing here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sandbox.github.clock import Clock
from sandbox.github.errors import ApiError

WINDOW = 3600
DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"


@dataclass
class _Window:
    used: int
    reset: int


@dataclass(frozen=True)
class Budget:
    """Whose budget a request spends: `key` ("user:42" or "installation:7") and the id GitHub
    names in its message."""

    key: str
    kind: str  # user | installation
    id: int


class RateLimiter:
    def __init__(self, limit: int, clock: Clock, exhausted_status: int = 403) -> None:
        if exhausted_status not in (403, 429):
            raise ValueError("GitHub answers 403 or 429 when the rate limit is exhausted")
        self.limit = limit
        self.exhausted_status = exhausted_status
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}

    def _window(self, key: str) -> _Window:
        now = int(self._clock.now())
        window = self._windows.get(key)
        if window is None or now >= window.reset:
            window = self._windows[key] = _Window(0, now + WINDOW)
        return window

    def spend(self, budget: Budget) -> None:
        with self._lock:
            self._window(budget.key).used += 1

    def exhausted(self, budget: Budget, request_id: str) -> ApiError | None:
        """GitHub's refusal when the budget is spent, with its headers; None while some is left."""
        with self._lock:
            if self._window(budget.key).used < self.limit:
                return None
        stamp = datetime.fromtimestamp(int(self._clock.now()), UTC).strftime("%Y-%m-%d %H:%M:%S")
        message = (f"API rate limit exceeded for {budget.kind} ID {budget.id}. If you reach out "
                   "to GitHub Support for help, please include the request ID "
                   f"{request_id} and timestamp {stamp} UTC.")
        return ApiError(self.exhausted_status, message, documentation_url=DOCS,
                        headers=self.headers(budget))

    def headers(self, budget: Budget) -> dict[str, str]:
        with self._lock:
            window = self._window(budget.key)
            return {
                "x-ratelimit-limit": str(self.limit),
                "x-ratelimit-remaining": str(max(self.limit - window.used, 0)),
                "x-ratelimit-reset": str(window.reset),
                "x-ratelimit-used": str(window.used),
                "x-ratelimit-resource": "core",
            }

    def overview(self, budget: Budget) -> dict[str, Any]:
        """GET /rate_limit."""
        with self._lock:
            window = self._window(budget.key)
            core = {"limit": self.limit, "used": window.used,
                    "remaining": max(self.limit - window.used, 0), "reset": window.reset}
        other = {"limit": 30, "used": 0, "remaining": 30, "reset": core["reset"]}
        return {"resources": {"core": core, "search": other, "graphql": dict(core)},
                "rate": core}

    def used(self, budget: Budget) -> int:
        with self._lock:
            return self._window(budget.key).used
