"""The simulated source-controller: GitRepositories fetch their ref into artifacts.

Each GitRepository resolves spec.url to a local bare repository through the resolver it is
given, resolves its ref on every interval (or at once when its generation or its
`reconcile.fluxcd.io/requestedAt` annotation changes), stores a tarball of the tree and
writes status as source-controller v1.9 does. It owns GitRepository status only and must not
touch any other object.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable, Hashable
from typing import cast

from sandbox.flux import conditions as cond
from sandbox.flux.artifacts import ArtifactStorage, GitFetchError, resolve_ref
from sandbox.flux.clock import SimClock
from sandbox.flux.durations import now_rfc3339, parse_duration
from sandbox.flux.runtime import (
    Key,
    Obj,
    StoreLike,
    api_code,
    generation,
    get_or_none,
    key_of,
    requested_at,
)
from sandbox.flux.workqueue import WorkQueue

log = logging.getLogger(__name__)

PLURAL = "gitrepositories"
RepoResolver = Callable[[str], str]


class SourceController:
    def __init__(
        self,
        store: StoreLike,
        resolver: RepoResolver,
        storage: ArtifactStorage,
        clock: SimClock,
    ) -> None:
        self._store = store
        self._resolver = resolver
        self._storage = storage
        self._queue = WorkQueue("source-controller", self._handle, clock, workers=2)
        self._seen: dict[Key, tuple[int, str | None]] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        self._queue.start()
        items, _ = self._store.list(PLURAL)
        for obj in items:
            self.on_event("ADDED", obj)

    def stop(self) -> None:
        self._queue.stop()

    def on_event(self, event_type: str, obj: Obj) -> None:
        """Store callback: enqueue on create, generation change or a new reconcile request."""
        key = key_of(obj)
        marker = (generation(obj), requested_at(obj))
        with self._lock:
            if event_type == "DELETED":
                self._seen.pop(key, None)
                return
            changed = self._seen.get(key) != marker
            self._seen[key] = marker
        if changed:
            self._queue.add(key)

    def _handle(self, key: Hashable) -> float | None:
        namespace, name = cast(Key, key)
        obj = get_or_none(self._store, PLURAL, namespace, name)
        if obj is None:
            return None
        spec = obj.get("spec") or {}
        old_status = obj.get("status") or {}
        status = copy.deepcopy(old_status)
        token = requested_at(obj)
        if token is not None:
            status["lastHandledReconcileAt"] = token
        interval = parse_duration(str(spec.get("interval", "1m")))
        if spec.get("suspend"):
            self._write(namespace, name, old_status, status)
            return None
        gen = generation(obj)
        url = str(spec.get("url", ""))
        try:
            repo = self._resolve(url)
            revision, sha = resolve_ref(repo, url, spec.get("ref"))
            current = old_status.get("artifact") or {}
            if current.get("revision") == revision and cond.is_true(old_status, cond.READY):
                artifact = current
            else:
                stored = self._storage.store_git(repo, sha, namespace, name)
                artifact = {
                    "digest": stored.digest,
                    "lastUpdateTime": now_rfc3339(),
                    "path": stored.path,
                    "revision": revision,
                    "size": stored.size,
                    "url": stored.url,
                }
        except GitFetchError as exc:
            cond.mark(status, cond.FETCH_FAILED, "True", "GitOperationFailed", str(exc), gen)
            cond.mark(status, cond.READY, "False", "GitOperationFailed", str(exc), gen)
            cond.mark(
                status,
                cond.RECONCILING,
                "True",
                "ProgressingWithRetry",
                f"retrying in {spec.get('interval', '1m')}",
                gen,
            )
            status.setdefault("observedGeneration", -1)
            self._write(namespace, name, old_status, status)
            return interval
        message = f"stored artifact for revision '{artifact['revision']}'"
        status["artifact"] = artifact
        for stale in (cond.FETCH_FAILED, cond.RECONCILING, "ArtifactOutdated", cond.STALLED):
            cond.delete(status, stale)
        cond.mark(status, cond.ARTIFACT_IN_STORAGE, "True", "Succeeded", message, gen)
        cond.mark(status, cond.READY, "True", "Succeeded", message, gen)
        status["observedGeneration"] = gen
        self._write(namespace, name, old_status, status)
        return interval

    def _resolve(self, url: str) -> str:
        try:
            return self._resolver(url)
        except Exception as exc:
            raise GitFetchError(
                f"failed to checkout and determine revision: unable to clone '{url}': "
                f"repository not found: {exc}"
            ) from exc

    def _write(self, namespace: str, name: str, old: Obj, new: Obj) -> None:
        if new == old:
            return
        try:
            self._store.replace_status(PLURAL, namespace, name, new)
        except Exception as exc:
            if api_code(exc) != 404:
                raise
