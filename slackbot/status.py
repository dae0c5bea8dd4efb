"""What each env of an app runs right now, as `/promote status` and the App Home show it.

Read-only: branch heads from the forge, Flux and rollout state from the cluster, live records,
freezes, holds and waiting requests from the store, the calendar freezes still to come from
the pipeline. A service that does not answer makes its fields unknown rather than the whole
status fail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from slackbot.errors import AdapterError
from slackbot.models import Block, Promotion, QueueEntry
from slackbot.pipeline import App, CalendarFreeze
from slackbot.ports import Clock, Cluster, CommitInfo, Forge, Store

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
    calendar: tuple[CalendarFreeze, ...] = ()  # the file's freezes in force or to come
    queue: tuple[QueueEntry, ...] = ()  # requests waiting for the env, in order
    now: datetime | None = None  # when it was read

    @property
    def runs_head(self) -> bool:
        return self.applied_revision == f"{self.branch}@sha1:{self.head_sha}"


@dataclass(frozen=True)
class AppStatus:
    app: str
    envs: tuple[EnvStatus, ...]


class StatusReader:
    """`/promote status` and App Home: the status of the app a command names or implies."""

    def __init__(self, lookup: Lookup, store: Store, forge: Forge, cluster: Cluster,
                 clock: Clock | None = None):
        self._lookup = lookup
        self._store = store
        self._forge = forge
        self._cluster = cluster
        self._clock = clock

    @property
    def app_names(self) -> tuple[str, ...]:
        return self._lookup.pipeline.app_names

    def read(self, app_name: str | None, channel: str | None = None) -> AppStatus:
        app = self._lookup.app(app_name, channel)
        now = self._clock.now() if self._clock is not None else None
        return read_status(app, self._forge, self._cluster, self._store, now)


def read_status(app: App, forge: Forge, cluster: Cluster, store: Store,
                now: datetime | None = None) -> AppStatus:
    envs = []
    for env in app.environments:
        head = _try(partial(forge.branch_head, app.repository, env.branch), None)
        ks = _try(partial(cluster.kustomization, env.kustomization), None)
        ready = desired = 0
        for name in app.deployment_names:
            rollout = _try(partial(cluster.rollout, env.namespace, name), None)
            if rollout is not None:
                ready += rollout.ready
                desired += rollout.desired
        source = app.source_of(env.name)
        waiting: tuple[CommitInfo, ...] = ()
        if source is not None:
            comparison = _try(partial(forge.compare, app.repository, env.branch, source.branch),
                              None)
            waiting = comparison.commits if comparison else ()
        envs.append(EnvStatus(
            env=env.name,
            branch=env.branch,
            head_sha=head,
            applied_revision=ks.last_applied_revision if ks else None,
            ready=ks.ready if ks else "Unknown",
            message=ks.message if ks else "the cluster did not answer",
            suspended=ks.suspended if ks else False,
            pods_ready=ready,
            pods_desired=desired,
            live=store.live(app.name, env.name),
            waiting=waiting,
            blocks=tuple(store.blocks(app.name, env.name)),
            calendar=tuple(sorted((f for f in env.freezes if now is None or not f.over(now)),
                                  key=lambda f: f.start)),
            queue=tuple(store.queue(app.name, env.name)),
            now=now,
        ))
    return AppStatus(app.name, tuple(envs))


def _try(read: Callable[[], T], default: D) -> T | D:
    try:
        return read()
    except (AdapterError, KeyError):
        log.info("status: a read failed", exc_info=True)
        return default
