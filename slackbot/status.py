"""What each env of an app runs right now, as `/promote status` and the App Home show it.

Read-only: branch heads from the forge, Flux and rollout state from the cluster, live records,
freezes, holds and waiting requests from the store, the calendar freezes still to come from
the pipeline. A service that does not answer makes its fields unknown rather than the whole
status fail. What GitHub and the cluster said is one shared view per app, read again when
something changed (`changed`) but at most every `min_interval`, and at least every `max_age`:
a hundred viewers cost what one does. An ack shows the view while those rules keep it
(`read_known`), and once a changed view is half `min_interval` old it also asks the workers to
read it again, ahead: viewers who keep coming find it fresh, and none waits for the read.
Records, holds and queues come from the store at every read, so a status never misses a
promotion.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from slackbot.clock import SystemClock
from slackbot.errors import AdapterError
from slackbot.models import Block, Promotion, QueueEntry
from slackbot.pipeline import App, CalendarFreeze
from slackbot.ports import Clock, Cluster, CommitInfo, Forge, KustomizationStatus, Store

if TYPE_CHECKING:
    from slackbot.engine.lookup import Lookup
    from slackbot.engine.runner import Submit

log = logging.getLogger(__name__)

T = TypeVar("T")
D = TypeVar("D")


@dataclass(frozen=True)
class EnvStatus:
    env: str
    branch: str
    head_sha: str | None
    applied_revision: str | None
    ready: str  # "True" | "False" | "Unknown"
    message: str
    suspended: bool
    pods_ready: int
    pods_desired: int
    live: Promotion | None
    waiting: tuple[CommitInfo, ...]  # commits in the env below, not yet promoted here
    blocks: tuple[Block, ...]
    # Promoting the env below would change this env's files (commits that change nothing,
    # such as a sync's merge, are not something to promote).
    promotable: bool = False
    calendar: tuple[CalendarFreeze, ...] = ()  # the file's freezes in force or to come
    queue: tuple[QueueEntry, ...] = ()  # requests waiting for the env, in order
    now: datetime | None = None  # when it was read
    images: tuple[str, ...] = ()  # what the env's Deployments run (their containers' images)

    @property
    def runs_head(self) -> bool:
        return self.applied_revision == f"{self.branch}@sha1:{self.head_sha}"


@dataclass(frozen=True)
class AppStatus:
    app: str
    envs: tuple[EnvStatus, ...]


@dataclass(frozen=True)
class _Seen:
    """What GitHub and the cluster said about one env."""

    head_sha: str | None
    flux: KustomizationStatus | None
    pods_ready: int
    pods_desired: int
    waiting: tuple[CommitInfo, ...]
    promotable: bool = False  # merging the env below would change this env's files
    images: tuple[str, ...] = ()  # the Deployments' images, each once, in order


@dataclass
class _View:
    envs: tuple[_Seen, ...]
    at: datetime
    dirty: bool = False


class StatusReader:
    """`/promote status` and App Home: the status of the app a command names or implies."""

    def __init__(self, lookup: Lookup, store: Store, forge: Forge, cluster: Cluster,
                 clock: Clock | None = None, min_interval: timedelta = timedelta(seconds=5),
                 max_age: timedelta = timedelta(seconds=60), submit: Submit | None = None):
        self._lookup = lookup
        self._store = store
        self._forge = forge
        self._cluster = cluster
        self._clock = clock or SystemClock()
        self._min_interval = min_interval
        self._max_age = max_age
        self._lock = threading.Lock()
        self._reading: dict[str, threading.Lock] = {}
        self._views: dict[str, _View] = {}
        self._changes = 0  # changed() calls so far: one during a read leaves its view dirty
        self._ahead: set[str] = set()  # apps whose view is handed in to be read ahead
        self._submit = submit  # where read_known hands those reads (None: it never does)
        self.reads = 0  # how many times the outside world was read (for tests and benchmarks)

    @property
    def app_names(self) -> tuple[str, ...]:
        return self._lookup.pipeline.app_names

    def changed(self) -> None:
        """Something changed (a record, Flux, GitHub): the next read after `min_interval`
        asks the outside world again."""
        with self._lock:
            self._changes += 1
            for view in self._views.values():
                view.dirty = True

    def read(self, app_name: str | None, channel: str | None = None) -> AppStatus:
        app = self._lookup.app(app_name, channel)
        return self._compose(app, self._view(app))

    def read_known(self, app_name: str | None, channel: str | None = None) -> AppStatus | None:
        """The status from what GitHub and the cluster said last, while the rules above keep
        it: the store is the only service read here, so an ack can carry it. None when the
        view is missing or due (then `read` asks). A changed view half `min_interval` old is
        handed to the workers to be read ahead, once."""
        app = self._lookup.app(app_name, channel)
        now = self._clock.now()
        with self._lock:
            view = self._views.get(app.name)
            if view is None or not self._fresh(view, now):
                return None
            wanted = (view.dirty and app.name not in self._ahead
                      and now - view.at >= self._min_interval / 2)
            submit = self._submit if wanted else None
            if submit is not None:
                self._ahead.add(app.name)
        if submit is not None:
            self._read_ahead(app, submit)
        return self._compose(app, view.envs)

    def _read_ahead(self, app: App, submit: Submit) -> None:
        def read() -> None:
            try:
                self._view(app, ahead=True)
            finally:
                with self._lock:
                    self._ahead.discard(app.name)

        try:
            submit(("status view", app.name), read, "read ahead")
        except Exception:
            with self._lock:
                self._ahead.discard(app.name)
            log.exception("status: handing in a read of %s failed", app.name)

    def _fresh(self, view: _View, now: datetime) -> bool:
        age = now - view.at
        return age < self._min_interval or (not view.dirty and age < self._max_age)

    def _compose(self, app: App, seen: tuple[_Seen, ...]) -> AppStatus:
        now = self._clock.now()
        kept = self._store.env_records(app.name, [env.name for env in app.environments])
        envs = tuple(
            EnvStatus(
                env=env.name,
                branch=env.branch,
                head_sha=part.head_sha,
                applied_revision=part.flux.last_applied_revision if part.flux else None,
                ready=part.flux.ready if part.flux else "Unknown",
                message=part.flux.message if part.flux else "the cluster did not answer",
                suspended=part.flux.suspended if part.flux else False,
                pods_ready=part.pods_ready,
                pods_desired=part.pods_desired,
                live=records.live,
                waiting=part.waiting,
                blocks=records.blocks,
                promotable=part.promotable,
                calendar=tuple(sorted((f for f in env.freezes if not f.over(now)),
                                      key=lambda f: f.start)),
                queue=records.queue,
                now=now,
                images=part.images,
            )
            for env, part, records in zip(app.environments, seen, kept, strict=True))
        return AppStatus(app.name, envs)

    def _view(self, app: App, ahead: bool = False) -> tuple[_Seen, ...]:
        """`ahead`: read a changed view although it is still fresh."""
        with self._lock:
            reading = self._reading.setdefault(app.name, threading.Lock())
        with reading:  # viewers arriving together wait for one read
            now = self._clock.now()
            with self._lock:
                view = self._views.get(app.name)
            if view is not None and self._fresh(view, now) and not (ahead and view.dirty):
                return view.envs
            with self._lock:
                changes = self._changes
            envs = read_outside(app, self._forge, self._cluster)
            self.reads += 1
            with self._lock:
                self._views[app.name] = _View(envs, now, dirty=self._changes != changes)
            return envs


def read_outside(app: App, forge: Forge, cluster: Cluster) -> tuple[_Seen, ...]:
    found = []
    for env in app.environments:
        head = _try(partial(forge.branch_head, app.repository, env.branch), None)
        ks = _try(partial(cluster.kustomization, env.kustomization), None)
        ready = desired = 0
        images: list[str] = []
        for name in app.deployment_names:
            rollout = _try(partial(cluster.rollout, env.namespace, name), None)
            if rollout is not None:
                ready += rollout.ready
                desired += rollout.desired
                images.extend(i for i in rollout.images if i not in images)
        source = app.source_of(env.name)
        waiting: tuple[CommitInfo, ...] = ()
        promotable = False
        if source is not None:
            comparison = _try(partial(forge.compare, app.repository, env.branch, source.branch),
                              None)
            promotable = comparison.changes_content if comparison else False
            waiting = comparison.commits if promotable and comparison else ()
        found.append(_Seen(head, ks, ready, desired, waiting, promotable, tuple(images)))
    return tuple(found)


def _try(read: Callable[[], T], default: D) -> T | D:
    try:
        return read()
    except (AdapterError, KeyError):
        log.info("status: a read failed", exc_info=True)
        return default
