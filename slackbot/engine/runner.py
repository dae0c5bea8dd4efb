"""Drives live records forward on the bot's workers: when woken by a command, on every Flux
status the shared watch delivers, on GitHub webhooks, on the scheduler's tick, after a restart.
Records that failed after their merge are still looked at (Flux statuses, ticks) for a while,
in case Flux applies them after all (slackbot/engine/verdict.py).

Each advance runs under its record's key (slackbot/workers.py), so two steps of one record
never run at once while records move in parallel; a kick already waiting covers the next one
(it has not read anything yet). An advance that fails is logged with its record id and
retried at the next kick or tick; it never stops another record. Every step is the engine's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from functools import partial

from slackbot import logs
from slackbot.engine import chain
from slackbot.engine.aftercare import Aftercare
from slackbot.engine.records import Records
from slackbot.engine.steps import Steps
from slackbot.engine.timers import Timers
from slackbot.models import State
from slackbot.pipeline import FluxRef, Pipeline
from slackbot.ports import KustomizationStatus, Store

log = logging.getLogger(__name__)

Submit = Callable[[Hashable, Callable[[], object], str | None], bool]
ADVANCE = "advance"
RECOVER = "recover"
RECENT = 5  # the newest records of an env looked at for a recovery


class Runner:
    def __init__(self, pipeline: Pipeline, store: Store, records: Records, steps: Steps,
                 aftercare: Aftercare, submit: Submit, timers: Timers):
        self._store = store
        self._records = records
        self._steps = steps
        self._aftercare = aftercare
        self._submit = submit
        self._timers = timers
        self._watched = _watch_map(pipeline)
        self._own = {env.kustomization: (app.name, env.name) for app in pipeline.apps.values()
                     for env in app.environments}

    def kick(self, promotion_id: int) -> bool:
        """Advance the record soon, reading the world afresh; False when a kick was waiting."""
        return self._submit(promotion_id, lambda: self._advance(promotion_id), ADVANCE)

    def _advance(self, promotion_id: int) -> None:
        with logs.scope(promotion=promotion_id):
            self._expire_or_advance(promotion_id)

    def _advance_on(self, promotion_id: int, status: KustomizationStatus) -> None:
        with logs.scope(promotion=promotion_id):
            if self._records.get(promotion_id).state is State.RECONCILING:
                self._steps.advance(promotion_id, status)

    def on_status(self, status: KustomizationStatus) -> None:
        """A Kustomization changed: kick the live records it can move. A failure is judged on
        the status as delivered: Flux may retry at once (a reconcile request that arrived
        during the health check is queued behind it), so a fresh read would miss it. Only a
        Ready status can recover a failed record (Verdict.recover), so only then are the env's
        recent records read: Flux's every reconcile first says Progressing."""
        if chain.flux_failed(status) and status.ref in self._own:
            live = self._store.live(*self._own[status.ref])
            if live is not None and live.state is State.RECONCILING:
                self._submit(live.id, partial(self._advance_on, live.id, status), None)
        for app, env in self._watched.get(status.ref, ()):
            live = self._store.live(app, env)
            if live is not None:
                self.kick(live.id)
        if status.ref in self._own and status.is_ready:  # a recovery is Flux Ready on it
            self._look_for_recoveries(*self._own[status.ref], status)

    def tick(self) -> list[int]:
        """The scheduled job: every live record re-read (gates, timeouts, expiry), and every
        recent failure that may have recovered."""
        for app, env in self._own.values():
            self._look_for_recoveries(app, env, None)
        return [record.id for record in self._store.live_all() if self.kick(record.id)]

    def _look_for_recoveries(self, app: str, env: str,
                             status: KustomizationStatus | None) -> None:
        for record in self._store.history(app, env, RECENT):
            if self._steps.watched(record):
                self._submit(record.id, partial(self._steps.recover, record.id, status), RECOVER)

    def due(self) -> list[int]:
        """The fast scheduled job: kick the records whose timer is due (reminder, escalation,
        expiry), each taken off the store's due index by one replica only."""
        return [i for i in self._store.take_due(self._records.clock.now()) if self.kick(i)]

    def resume(self) -> list[int]:
        """After a restart: finish the branch sync or backport a crash interrupted, and take
        up every live record where it was left."""
        for promotion_id in self._store.aftercare_due():
            record = self._store.get(promotion_id)
            if record is not None and record.state is State.DEPLOYED:
                self._submit(promotion_id, partial(self._aftercare.run, record), "aftercare")
            elif record is None or not record.live:
                self._store.clear_aftercare(promotion_id)
        return self.tick()

    def _expire_or_advance(self, promotion_id: int) -> None:
        record = self._records.get(promotion_id)
        if not record.live:
            return
        # What is due first (a reminder, an escalation, the expiry: slackbot/engine/timers.py)
        if self._timers.apply(record).live:
            self._steps.advance(promotion_id)


def _watch_map(pipeline: Pipeline) -> dict[FluxRef, list[tuple[str, str]]]:
    """Kustomization -> the (app, env) pairs whose live records it can move: the env's own
    (a merge being applied) and the env above it (a source that must run the head)."""
    mapping: dict[FluxRef, list[tuple[str, str]]] = {}
    for app in pipeline.apps.values():
        for env in app.environments:
            mapping.setdefault(env.kustomization, []).append((app.name, env.name))
            upper = app.next_of(env.name)
            if upper is not None:
                mapping[env.kustomization].append((app.name, upper.name))
    return mapping
