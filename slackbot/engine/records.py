"""The one way the core changes a record: a compare-and-set in the store with its audit event,
then the notifier told, and (where the step deserves it) a comment on the pull request.

Every module of the engine writes through `Records`, so no step can change a record without
an event, and no event reaches people before it is stored. It decides nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from slackbot.errors import AdapterError, AlreadyFinished, NotFound
from slackbot.events import Event, Facts, Failed
from slackbot.models import Kind, Promotion, State
from slackbot.pipeline import Pipeline
from slackbot.ports import Clock, Directory, Fence, Forge, Notifier, Store
from slackbot.reasons import Action, Code, Reason

log = logging.getLogger(__name__)


class Keeper(Protocol):
    """Renews the locks it holds while their holder lives (slackbot/keeper.py)."""

    def hold(self, fence: Fence) -> None: ...
    def drop(self, fence: Fence) -> None: ...


@dataclass(frozen=True)
class Options:
    owner: str = "promotebot"  # names this process in locks and as the actor of its own steps
    lock_ttl: timedelta = timedelta(seconds=60)
    gate_ttl: timedelta = timedelta(hours=24)  # a promotion waiting longer than this expires
    # A deploy that failed after its merge is still watched this long: Flux keeps retrying, and
    # a revision it applies Ready after all makes the record deployed ("recovered").
    recovery_watch: timedelta = timedelta(minutes=30)
    # With a keeper, an env lock lives as long as its holder renews it (lock_ttl is then the
    # lease's time to live); without one, it simply expires after lock_ttl.
    keeper: Keeper | None = None


class Records:
    def __init__(self, pipeline: Pipeline, store: Store, forge: Forge, notifier: Notifier,
                 clock: Clock, options: Options, directory: Directory | None = None):
        self.store = store
        self.clock = clock
        self.options = options
        self._pipeline = pipeline
        self._forge = forge
        self._notifier = notifier
        self._directory = directory
        self._when_finished: list[Callable[[Promotion], object]] = []

    def when_finished(self, hook: Callable[[Promotion], object]) -> None:
        """Call `hook` with every record this process finishes, once it is stored (the queue
        starts the env's next request from here). A hook that fails is only logged."""
        self._when_finished.append(hook)

    # -- reading ---------------------------------------------------------------------------

    def get(self, promotion_id: int) -> Promotion:
        record = self.store.get(promotion_id)
        if record is None:
            raise NotFound(Reason(Code.NOT_FOUND, record=promotion_id))
        return record

    def named(self, promotion_id: int, kind: Kind | None) -> Promotion:
        """The record a person named (`R-3`: kind rollback, number 3); a letter that is not the
        record's kind is refused, never obeyed (one counter numbers every kind)."""
        record = self.get(promotion_id)
        if kind is not None and record.kind is not kind:
            raise NotFound(Reason(Code.WRONG_NAME, record=record.id, kind=record.kind,
                                  name=f"{kind.letter}-{promotion_id}"))
        return record

    def person(self, user: str) -> str:
        """How the texts written into GitHub name a person (never `@<slack id>`)."""
        return person(self._directory, user)

    def live(self, promotion_id: int, action: Action) -> Promotion:
        """The record, refused with FINISHED when it is over (its buttons do nothing now)."""
        record = self.get(promotion_id)
        if not record.live:
            raise AlreadyFinished(Reason(Code.FINISHED, record=record.id, kind=record.kind,
                                         state=record.state,
                                         action=action))
        return record

    # -- writing ---------------------------------------------------------------------------

    def event(self, record: Promotion, facts: Facts, actor: str | None = None) -> Event:
        return Event(record.id, record.app, record.env, actor or self.options.owner,
                     self.clock.now(), facts)

    def create(self, record: Promotion, facts: Facts) -> Promotion:
        """Store a new live record (ConcurrentUpdate when its env already has one)."""
        event = self.event(record, facts, record.requested_by)
        stored = self.store.create(record, event)
        self._notify(stored, event)
        return stored

    def transition(self, record: Promotion, facts: Facts, state: State | None = None, *,
                   actor: str | None = None, fence: Fence | None = None,
                   **changes: Any) -> Promotion:
        event = self.event(record, facts, actor)
        stored = self.store.transition(record, event, state, fence=fence,
                                       updated_at=event.at, **changes)
        self._notify(stored, event)
        if record.live and not stored.live:
            self._finished(stored)
        return stored

    def finish(self, record: Promotion, state: State, facts: Facts, *,
               actor: str | None = None, **changes: Any) -> Promotion:
        return self.transition(record, facts, state, actor=actor,
                               finished_at=self.clock.now(), **changes)

    def fail(self, record: Promotion, reason: Reason, fence: Fence | None = None,
             **changes: Any) -> Promotion:
        return self.transition(record, Failed(reason), State.FAILED, fence=fence,
                               failure=reason, finished_at=self.clock.now(), **changes)

    def note(self, record: Promotion, facts: Facts, actor: str | None = None) -> Event:
        """An event about the record that changes none of its fields (a sync, a hold)."""
        event = self.event(record, facts, actor)
        self.store.append_event(event)
        self._notify(record, event)
        return event

    def event_for_env(self, app: str, env: str, actor: str, facts: Facts) -> Event:
        """An event about an env rather than a record (a freeze, a hotfix branch)."""
        return Event(None, app, env, actor, self.clock.now(), facts)

    def told(self, record: Promotion, event: Event) -> None:
        """Tell the notifier of an event stored along with another write (a hold)."""
        self._notify(record, event)

    def comment(self, record: Promotion, text: str) -> None:
        """Say it on the record's pull request, if it has one; a failure is only logged."""
        if record.pr_number is None:
            return
        try:
            repository = self._pipeline.app(record.app).repository
            self._forge.comment(repository, record.pr_number, text)
        except AdapterError:
            log.exception("promotion %s: could not comment on the pull request", record.id)

    # -- the env lock ----------------------------------------------------------------------

    def lock(self, record: Promotion) -> Fence | None:
        ttl = int(self.options.lock_ttl.total_seconds() * 1000)
        fence = self.store.acquire(record.app, record.env, self.options.owner, ttl)
        if fence is not None and self.options.keeper is not None:
            self.options.keeper.hold(fence)
        return fence

    def unlock(self, fence: Fence) -> None:
        if self.options.keeper is not None:
            self.options.keeper.drop(fence)
        self.store.release(fence)

    def _finished(self, record: Promotion) -> None:
        for hook in self._when_finished:
            try:
                hook(record)
            except Exception:  # a hook that failed must not undo a recorded step
                log.exception("promotion %s: a hook on its end failed", record.id)

    def _notify(self, record: Promotion, event: Event) -> None:
        try:
            self._notifier.promotion_changed(record, event)
        except Exception:  # a notice that failed must not undo a recorded step
            log.exception("promotion %s: the notifier failed", record.id)


def person(directory: Directory | None, user: str) -> str:
    """A person's name from the directory; the id when it has none (a name only decorates)."""
    if directory is None:
        return user
    try:
        return directory.name(user)
    except Exception:
        log.info("no name for %s", user, exc_info=True)
        return user
