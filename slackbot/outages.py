"""Outside services that keep failing, as facts the cards show ("the Kubernetes API is answering
errors since 14:02 UTC, retrying"), fed by the adapters' retry policy.

The contract for an adapter (GitHub's, Kubernetes'): after every attempt of a call that the
service itself failed (a transport error, a timeout, a 5xx, a 429 or a secondary rate limit),
call `board.failing(service, problem)`; after any answer from the service (a 404 and a 409
are answers), call `board.answering(service)`. `slackbot.adapters.backoff.call` does both for
an adapter that retries through it. An outage shows once two attempts in a row failed (one
lost request is not news), `since` the first of them, and ends at the next answer. Each
change calls `on_change` (the notifier re-renders the live cards). In-process: each replica
shows what its own calls meet. No wording here: handlers/messages words an Outage.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from slackbot.clock import SystemClock
from slackbot.ports import Clock

log = logging.getLogger(__name__)


class Service(StrEnum):
    GITHUB = "github"
    KUBERNETES = "kubernetes"


class Problem(StrEnum):
    ERRORS = "errors"  # it answers 5xx
    UNREACHABLE = "unreachable"  # no answer: connection refused, reset, timed out
    RATE_LIMITED = "rate_limited"  # it answers 429 (or GitHub's secondary limit)


@dataclass(frozen=True)
class Outage:
    service: Service
    problem: Problem
    since: datetime
    target: str | None = None  # which one of the service: a cluster's name (None: the default)


@dataclass
class _Streak:
    outage: Outage
    failures: int


class OutageBoard:
    SHOW_AFTER = 2  # failed attempts in a row before a card says so

    def __init__(self, clock: Clock | None = None, on_change: Callable[[], None] | None = None):
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._streaks: dict[tuple[Service, str | None], _Streak] = {}
        self.on_change = on_change

    def failing(self, service: Service, problem: Problem, target: str | None = None) -> None:
        key = (service, target)
        with self._lock:
            streak = self._streaks.get(key)
            if streak is None:
                streak = self._streaks[key] = _Streak(
                    Outage(service, problem, self._clock.now(), target), 0)
            before = self._shown(streak)
            streak.failures += 1
            if streak.outage.problem is not problem:
                streak.outage = replace(streak.outage, problem=problem)
            changed = self._shown(streak) != before
        if changed:
            log.warning("%s%s is failing (%s) since %s", service.value,
                        f" ({target})" if target else "", problem.value,
                        streak.outage.since.isoformat())
            self._changed()

    def answering(self, service: Service, target: str | None = None) -> None:
        with self._lock:
            streak = self._streaks.pop((service, target), None)
            changed = streak is not None and self._shown(streak) is not None
        if changed:
            log.info("%s%s answers again", service.value, f" ({target})" if target else "")
            self._changed()

    def current(self) -> tuple[Outage, ...]:
        """The outages a card shows now, oldest first."""
        with self._lock:
            shown = [o for o in (self._shown(s) for s in self._streaks.values()) if o]
        return tuple(sorted(shown, key=lambda o: o.since))

    def down(self, service: Service, target: str | None = None) -> bool:
        """True while an outage of the service shows (callers fail fast instead of retrying)."""
        with self._lock:
            streak = self._streaks.get((service, target))
            return streak is not None and self._shown(streak) is not None

    def _shown(self, streak: _Streak) -> Outage | None:
        return streak.outage if streak.failures >= self.SHOW_AFTER else None

    def _changed(self) -> None:
        if self.on_change is None:
            return
        try:
            self.on_change()
        except Exception:
            log.exception("outages: telling of a change failed")
