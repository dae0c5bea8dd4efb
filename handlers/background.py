"""Where the edge runs work that must not hold up a Slack ack: `defer(fn)` hooks.

`run_now` runs the work in the caller's thread (Bolt listeners already run in a thread pool,
after the HTTP ack); `Background` hands it to a small pool of its own. Either way a failure is
logged with a reference id and never lost silently. No Slack or engine knowledge here.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

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


class Background:
    """A bounded pool for deferred work; `close()` waits for what was already handed in."""

    def __init__(self, workers: int = 2, name: str = "promotebot-edge"):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)

    def __call__(self, work: Callable[[], object]) -> None:
        self._pool.submit(_logged, work)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
