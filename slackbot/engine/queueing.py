"""The queue of an env: a request made while the env has a live record waits in line, in
order, and starts by itself once the env is free, every rule checked again at that moment.

The line lives in the store (one entry per person and env; atomic operations), so it
survives restarts and is shared by replicas. A start claims the head of the line in the
store first, so two replicas never start the same entry, and a crash mid-start is taken up
by the next tick. When a rule refuses a queued request at its start, the person is told (on
the record that freed the env) and the next in line goes. Nothing here knows Slack.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from slackbot.engine.commands import Commands
from slackbot.engine.lookup import Lookup
from slackbot.engine.records import Records
from slackbot.errors import AlreadyLive, ConcurrentUpdate, DomainError, NotAllowed
from slackbot.events import FromQueue, LeftQueue, Queued, QueueRefused
from slackbot.models import Promotion, QueueEntry
from slackbot.pipeline import Pipeline
from slackbot.ports import Store
from slackbot.reasons import Code, Next, Reason

log = logging.getLogger(__name__)

Submit = Callable[[Hashable, Callable[[], object], str | None], bool]
QUEUE = "queue"  # the workers' key prefix of starts
STALE_CLAIM = timedelta(minutes=2)  # a start older than this was cut short (a crash)
STARTS_MAX = 50  # refusals one start may skip over before it leaves the rest to the tick


@dataclass(frozen=True)
class InLine:
    """A request that waits: its entry, its place (1: next), the line's length, and the live
    record it waits for (None when the env is free and the line is starting)."""

    entry: QueueEntry
    position: int
    size: int
    live: Promotion | None


class Queue:
    def __init__(self, pipeline: Pipeline, lookup: Lookup, records: Records, store: Store,
                 commands: Commands, submit: Submit):
        self._pipeline = pipeline
        self._lookup = lookup
        self._records = records
        self._store = store
        self._commands = commands
        self._submit = submit
        records.when_finished(lambda record: self.start_soon(record.app, record.env))

    # -- people ------------------------------------------------------------------------------

    def request(self, app_name: str | None, env_name: str, user: str, *,
                source: str | None = None, channel: str | None = None) -> Promotion | InLine:
        """A promotion started now, or, while the env is busy (or others wait), a place in
        line. The rules that do not depend on the env being free are checked first either
        way: a request that could never start does not wait."""
        app, env, _ = self._commands.admissible(app_name, env_name, user, source=source,
                                                channel=channel)
        if not self._waiting(app.name, env.name):
            try:
                return self._commands.request(app.name, env.name, user, source=source,
                                              channel=channel)
            except AlreadyLive:
                pass  # the env is busy: wait in line
        now = self._records.clock.now()
        entry, position, added = self._store.enqueue(
            QueueEntry(app.name, env.name, user, now, source, channel))
        if not added:
            raise NotAllowed(Reason(Code.ALREADY_QUEUED, Next.LEAVE_QUEUE, app=app.name,
                                    env=env.name, position=position))
        live = self._store.live(app.name, env.name)
        if live is not None:
            self._records.note(live, Queued(user, position), actor=user)
        else:
            self.start_soon(app.name, env.name)  # it freed up meanwhile
        return InLine(entry, position, len(self._store.queue(app.name, env.name)), live)

    def leave(self, app_name: str | None, env_name: str, user: str,
              channel: str | None = None) -> QueueEntry:
        app, env = self._lookup.app_env(app_name, env_name, channel)
        entry = self._store.leave_queue(app.name, env.name, user)
        if entry is None:
            raise NotAllowed(Reason(Code.NOT_QUEUED, app=app.name, env=env.name))
        live = self._store.live(app.name, env.name)
        if live is not None:
            self._records.note(live, LeftQueue(user), actor=user)
        return entry

    def line(self, app: str, env: str) -> list[QueueEntry]:
        return self._store.queue(app, env)

    # -- starting ----------------------------------------------------------------------------

    def start_soon(self, app: str, env: str) -> None:
        """The env may be free: start its next request on the workers (coalesced)."""
        self._submit((QUEUE, app, env), partial(self.start_next, app, env), QUEUE)

    def start_next(self, app: str, env: str) -> Promotion | None:
        """If the env is free, start the first request in line that every rule allows now;
        each one refused is told why and leaves the line. The record started, if any."""
        for _ in range(STARTS_MAX):
            if self._store.live(app, env) is not None:
                return None
            entry = self._store.claim_queued(app, env, self._records.clock.now())
            if entry is None:
                return None
            started = self._start(entry)
            if started is not None:
                return started
        return None

    def tick(self) -> None:
        """The scheduled job (and a restart): take up starts a crash cut short, and start
        the line of every free env."""
        for app in self._pipeline.apps.values():
            for env in app.environments:
                self._recover(app.name, env.name)
                if self._store.queue(app.name, env.name):
                    self.start_soon(app.name, env.name)

    def _start(self, entry: QueueEntry) -> Promotion | None:
        previous = next(iter(self._store.history(entry.app, entry.env, 1)), None)
        try:
            record = self._commands.request(entry.app, entry.env, entry.user,
                                            source=entry.source, channel=entry.channel)
        except (AlreadyLive, ConcurrentUpdate):
            self._store.release_claim(entry.app, entry.env, requeue=True)  # someone was faster
            return None
        except DomainError as refusal:
            self._store.release_claim(entry.app, entry.env, requeue=False)
            self._refused(entry, refusal.reason, previous)
            return None
        except Exception:
            self._store.release_claim(entry.app, entry.env, requeue=True)  # GitHub down: later
            raise
        self._store.release_claim(entry.app, entry.env, requeue=False)
        self._records.note(record, FromQueue(entry.at, previous.id if previous else None),
                           actor=entry.user)
        return record

    def _refused(self, entry: QueueEntry, reason: Reason, previous: Promotion | None) -> None:
        facts = QueueRefused(entry.user, reason)
        if previous is not None:
            self._records.note(previous, facts, actor=entry.user)
        else:
            self._store.append_event(self._records.event_for_env(entry.app, entry.env,
                                                                 entry.user, facts))

    def _recover(self, app: str, env: str) -> None:
        claim = self._store.claim(app, env)
        if claim is None:
            return
        entry, since = claim
        if self._records.clock.now() - since < STALE_CLAIM:
            return
        started = any(r.requested_by == entry.user and r.requested_at >= since
                      for r in self._store.history(app, env, 5))
        log.warning("queue of %s/%s: a start cut short (%s's request); %s", app, env,
                    entry.user, "it had started" if started else "back at the head")
        self._store.release_claim(app, env, requeue=not started)

    def _waiting(self, app: str, env: str) -> bool:
        """Others wait for the env (or one of them is starting): a new request joins them."""
        return bool(self._store.queue(app, env)) or self._store.claim(app, env) is not None
