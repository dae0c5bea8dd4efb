"""Failures GitHub really has, injected on demand by a test or the sandbox.

- `merge_race()`: the next merges answer 405 "Base branch was modified. Review and try the
  merge again." and merge nothing (GitHub's transient race with another base update).
- `lose_response()`: the next matching request (by default a merge) is carried out, but its
  answer is lost: the connection drops, or a 502 comes back instead.
- `outage(seconds)`: every API and git request answers a 5xx until the emulator's clock passes.
- `secondary_rate_limit(seconds)`: every API request answers 403 (or 429) "You have exceeded a
  secondary rate limit" with Retry-After, without X-RateLimit headers, as GitHub does.

Faults only decide what goes wrong and when (on the emulator's clock); the server applies them.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass

from sandbox.github.clock import Clock

MERGE_PATH = r"/repos/[^/]+/[^/]+/pulls/\d+/merge$"
SECONDARY_DOCS = ("https://docs.github.com/free-pro-team@latest/rest/overview/"
                  "rate-limits-for-the-rest-api#about-secondary-rate-limits")


@dataclass
class _Loss:
    method: str
    path: re.Pattern[str]
    how: str  # drop | 502
    times: int


@dataclass(frozen=True)
class Outage:
    status: int
    until: float


@dataclass(frozen=True)
class SecondaryLimit:
    status: int
    until: float
    retry_after: int | None  # None: the seconds left, counting down


class Faults:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._races = 0
        self._computing = 0
        self._losses: list[_Loss] = []
        self._outage: Outage | None = None
        self._secondary: SecondaryLimit | None = None

    # -- arming ------------------------------------------------------------------------

    def merge_race(self, times: int = 1) -> None:
        with self._lock:
            self._races += times

    def merge_while_computing(self, times: int = 1) -> None:
        """The next `times` merges find GitHub still computing mergeability: they answer 405
        "Pull Request is not mergeable" and the pull request reads `mergeable: null` for the
        tracker's delay, as github.com does right after a push."""
        with self._lock:
            self._computing += times

    def lose_response(self, times: int = 1, how: str = "drop", method: str = "PUT",
                      path: str = MERGE_PATH) -> None:
        """The next `times` requests matching `method` and the `path` regex run, and their
        answer is lost: `how` "drop" closes the connection unanswered, "502" sends a 502."""
        if how not in ("drop", "502"):
            raise ValueError("how is drop or 502")
        with self._lock:
            self._losses.append(_Loss(method.upper(), re.compile(path), how, times))

    def outage(self, seconds: float, status: int = 503) -> None:
        if not 500 <= status <= 599:
            raise ValueError("an outage answers 5xx")
        with self._lock:
            self._outage = Outage(status, self._clock.now() + seconds)

    def secondary_rate_limit(self, seconds: float = 60, status: int = 403,
                             retry_after: int | None = None) -> None:
        if status not in (403, 429):
            raise ValueError("GitHub answers 403 or 429 for a secondary rate limit")
        with self._lock:
            self._secondary = SecondaryLimit(status, self._clock.now() + seconds, retry_after)

    def clear(self) -> None:
        with self._lock:
            self._races, self._computing, self._losses = 0, 0, []
            self._outage = self._secondary = None

    # -- consulting --------------------------------------------------------------------

    def take_merge_race(self) -> bool:
        with self._lock:
            if self._races > 0:
                self._races -= 1
                return True
            return False

    def take_merge_while_computing(self) -> bool:
        with self._lock:
            if self._computing > 0:
                self._computing -= 1
                return True
            return False

    def take_loss(self, method: str, path: str) -> str | None:
        """How the answer to this request is lost (drop | 502), or None."""
        with self._lock:
            for loss in self._losses:
                if loss.method == method and loss.path.search(path):
                    loss.times -= 1
                    if loss.times <= 0:
                        self._losses.remove(loss)
                    return loss.how
            return None

    def current_outage(self) -> Outage | None:
        with self._lock:
            if self._outage is not None and self._clock.now() >= self._outage.until:
                self._outage = None
            return self._outage

    def current_secondary(self) -> SecondaryLimit | None:
        with self._lock:
            if self._secondary is not None and self._clock.now() >= self._secondary.until:
                self._secondary = None
            return self._secondary

    def secondary_body(self, request_id: str) -> dict[str, str]:
        return {
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes "
                       "before you try again. If you reach out to GitHub Support for help, "
                       f"please include the request ID {request_id}.",
            "documentation_url": SECONDARY_DOCS,
        }

    def retry_after(self, limit: SecondaryLimit) -> str:
        """Retry-After in whole seconds: as configured (GitHub often says 60 whatever the real
        wait), else what is left on the emulator's clock."""
        if limit.retry_after is not None:
            return str(limit.retry_after)
        return str(max(math.ceil(limit.until - self._clock.now()), 1))
