"""Where the edge runs work that must not hold up a Slack ack: `defer(fn)` hooks.

`run_now` runs the work in the caller's thread; `pooled(executor)` hands it to a pool the
composition root owns; `Background` to a small pool of its own. Bolt runs a listener in the
HTTP request's thread and answers Slack when it returns, so whatever a listener does after its
ack (a dialog opened with the trigger, an answer to a stale button) goes through one of these.
Either way a failure is logged with a reference id and never lost silently. No Slack or engine
knowledge here.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor

log = logging.getLogger(__name__)

Defer = Callable[[Callable[[], object]], None]


def reference() -> str:
    """A short id that ties what a user sees to the log line with the traceback."""
    return uuid.uuid4().hex[:8]


def _logged(work: Callable[[], object]) -> None:
    try:
        work()
    except Exception:
        log.exception("background work failed (reference %s)", reference())


def run_now(work: Callable[[], object]) -> None:
    _logged(work)


def pooled(pool: Executor) -> Defer:
    """A Defer onto `pool`, whose failures are logged like the others."""

    def defer(work: Callable[[], object]) -> None:
        pool.submit(_logged, work)

    return defer


class Background:
    """A bounded pool for deferred work; `close()` waits for what was already handed in."""

    def __init__(self, workers: int = 2, name: str = "promotebot-edge"):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)

    def __call__(self, work: Callable[[], object]) -> None:
        self._pool.submit(_logged, work)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
