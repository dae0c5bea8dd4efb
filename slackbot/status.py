"""What each env of an app runs right now, as `/promote status` and the App Home show it.

Read-only: branch heads from the forge, Flux and rollout state from the cluster, live records,
freezes, holds and waiting requests from the store, the calendar freezes still to come from
the pipeline. A service that does not answer makes its fields unknown rather than the whole
status fail. What GitHub and the cluster said is one shared view per app, read again when
something changed (`changed`) but at most every `min_interval`, and at least every `max_age`:
a hundred viewers cost what one does. While one viewer reads them again, the others are shown
the view before (`read_known`), if it is younger than twice `min_interval`. Records, holds and
queues come from the store at every read, so a status never misses a promotion.
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
                 max_age: timedelta = timedelta(seconds=60)):
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
        self._being_read: set[str] = set()  # apps whose view a viewer is reading again
        self.reads = 0  # how many times the outside world was read (for tests and benchmarks)

    @property
    def app_names(self) -> tuple[str, ...]:
        return self._lookup.pipeline.app_names

    def changed(self) -> None:
        """Something changed (a record, Flux, GitHub): the next read after `min_interval`
        asks the outside world again."""
        with self._lock:
            for view in self._views.values():
                view.dirty = True

    def read(self, app_name: str | None, channel: str | None = None) -> AppStatus:
        app = self._lookup.app(app_name, channel)
        return self._compose(app, self._view(app))

    def read_known(self, app_name: str | None, channel: str | None = None) -> AppStatus | None:
        """The status from what GitHub and the cluster said last, when the rules above would
        not ask them again yet, or another viewer is asking them now and the view is younger
        than twice `min_interval`: the store is the only service read, so an ack can carry it.
        None otherwise (then `read` asks)."""
        app = self._lookup.app(app_name, channel)
        now = self._clock.now()
        with self._lock:
            view = self._views.get(app.name)
            being_read = app.name in self._being_read
        if view is None:
            return None
        if not (self._fresh(view, now)
                or (being_read and now - view.at < 2 * self._min_interval)):
            return None
        return self._compose(app, view.envs)

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

    def _view(self, app: App) -> tuple[_Seen, ...]:
        with self._lock:
            reading = self._reading.setdefault(app.name, threading.Lock())
        with reading:  # viewers arriving together wait for one read
            now = self._clock.now()
            with self._lock:
                view = self._views.get(app.name)
            if view is not None and self._fresh(view, now):
                return view.envs
            with self._lock:
                self._being_read.add(app.name)
            try:
                envs = read_outside(app, self._forge, self._cluster)
                self.reads += 1
                with self._lock:
                    self._views[app.name] = _View(envs, now)
            finally:
                with self._lock:
                    self._being_read.discard(app.name)
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
