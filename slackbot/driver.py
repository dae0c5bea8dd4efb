"""Drives live records forward in the background: after a command, on every Flux status the
shared watch delivers, and on the scheduler's tick.

One small thread pool; a record already queued is not queued twice (a burst of watch events
becomes one advance). It decides nothing: which records care about which Kustomization is read
from the pipeline, and every step is the engine's.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from slackbot.engine import Engine
from slackbot.errors import AdapterError, PromotebotError
from slackbot.pipeline import FluxRef
from slackbot.ports import KustomizationStatus

log = logging.getLogger(__name__)


class Driver:
    def __init__(self, engine: Engine, workers: int = 4,
                 executor: ThreadPoolExecutor | None = None):
        self.engine = engine
        self._pool = executor or ThreadPoolExecutor(max_workers=workers,
                                                    thread_name_prefix="driver")
        self._queued: set[int] = set()
        self._lock = threading.Lock()
        self._watched = self._watch_map()

    def _watch_map(self) -> dict[FluxRef, list[tuple[str, str]]]:
        """Kustomization -> the (app, env) pairs whose live records it can move: the env's own
        (a merge being applied) and the env above it (a source that must run the head)."""
        mapping: dict[FluxRef, list[tuple[str, str]]] = {}
        for app in self.engine.pipeline.apps.values():
            for env in app.environments:
                mapping.setdefault(env.kustomization, []).append((app.name, env.name))
                upper = app.next_of(env.name)
                if upper is not None:
                    mapping[env.kustomization].append((app.name, upper.name))
        return mapping

    def kick(self, promotion_id: int) -> Future[None] | None:
        """Advance the record soon, reading the world afresh (a kick already queued covers
        this one: it has not read anything yet)."""
        with self._lock:
            if promotion_id in self._queued:
                return None
            self._queued.add(promotion_id)
        return self._pool.submit(self._advance, promotion_id)

    def _advance(self, promotion_id: int) -> None:
        with self._lock:
            self._queued.discard(promotion_id)
        try:
            self.engine.advance(promotion_id)
        except AdapterError:
            log.warning("promotion %s: an outside service failed; the next tick retries",
                        promotion_id, exc_info=True)
        except PromotebotError:
            log.exception("promotion %s: could not advance", promotion_id)

    def on_status(self, status: KustomizationStatus) -> None:
        for app, env in self._watched.get(status.ref, ()):
            live = self.engine.store.live(app, env)
            if live is not None:
                self.kick(live.id)

    def tick(self) -> None:
        self.engine.tick()

    def stop(self, wait: bool = False) -> None:
        """Stop taking work; `wait` lets queued kicks run first (else they are dropped: the
        records stay in Redis and the next start resumes them)."""
        self._pool.shutdown(wait=True, cancel_futures=not wait)
