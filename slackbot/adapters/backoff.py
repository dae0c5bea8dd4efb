"""Retrying a call to an outside service by policy: exponential backoff with jitter and a cap,
a bounded number of attempts, each failure and each answer told to the outage board.

`call(fn, policy, classify, board, service)`: `classify(exc)` says whether the exception is the
service failing (a Problem: retry, and tell the board) or an answer (None: raise it at once,
the service is up). While the board already shows the service down, one attempt only: the
runner's next kick or tick tries again, and no worker sleeps through an outage. A retry
sleeps on the calling worker; the policy's cap keeps that short. Used by the Kubernetes
adapter; the GitHub adapter can use it the same way.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from slackbot.outages import OutageBoard, Problem, Service

T = TypeVar("T")


@dataclass(frozen=True)
class Policy:
    attempts: int = 3  # including the first
    first_delay: float = 0.5  # seconds before the first retry
    multiplier: float = 2.0
    cap: float = 5.0  # no single wait longer than this
    jitter: float = 0.5  # each wait is drawn from [(1 - jitter) * d, d]

    def delays(self, rng: Callable[[float, float], float] = random.uniform) -> Iterator[float]:
        """The waits between attempts (attempts - 1 of them)."""
        delay = self.first_delay
        for _ in range(self.attempts - 1):
            capped = min(delay, self.cap)
            yield rng(capped * (1.0 - self.jitter), capped)
            delay *= self.multiplier


DEFAULT = Policy()
NO_RETRY = Policy(attempts=1)


def call(fn: Callable[[], T], policy: Policy, classify: Callable[[BaseException], Problem | None],
         board: OutageBoard | None, service: Service, target: str | None = None,
         sleep: Callable[[float], None] = time.sleep) -> T:
    if board is not None and board.down(service, target):
        policy = NO_RETRY
    delays = policy.delays()
    while True:
        try:
            result = fn()
        except Exception as exc:
            problem = classify(exc)
            if problem is None:
                if board is not None:
                    board.answering(service, target)
                raise
            if board is not None:
                board.failing(service, problem, target)
            delay = next(delays, None)
            if delay is None:
                raise
            sleep(delay)
            continue
        if board is not None:
            board.answering(service, target)
        return result
