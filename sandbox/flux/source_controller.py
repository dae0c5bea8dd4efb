"""The simulated source-controller: GitRepositories fetch their ref into artifacts.

Follows source-controller v1.9's GitRepository Reconcile: deletion (artifacts collected, the
finalizer dropped), the finalizer, suspend, then storage, source and artifact, each with the
conditions it sets (ArtifactOutdated and Reconciling while a new revision is built, FetchFailed
on a fetch error, Stalled when the URL cannot work) and Ready summarised from them as the
summarize helper does (summary.py). Fetch errors are retried with the work queue's exponential
backoff, a success at the jittered interval. Each URL resolves to a local bare repository
through the resolver it is given. It owns GitRepository status only.
"""

from __future__ import annotations

import copy
import logging
import random
import threading
from collections.abc import Callable, Hashable
from typing import cast

from sandbox.flux import conditions as cond
from sandbox.flux.artifacts import ArtifactStorage, GitFetchError, resolve_ref, url_error
from sandbox.flux.clock import SimClock
from sandbox.flux.durations import now_rfc3339, parse_duration
from sandbox.flux.patcher import Patcher
from sandbox.flux.runtime import (
    FINALIZER,
    Key,
    Obj,
    StoreLike,
    generation,
    get_or_none,
    jittered,
    key_of,
    requested_at,
)
from sandbox.flux.summary import Outcome, SourceResult, summarize
from sandbox.flux.workqueue import Result, WorkQueue

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
        rng: random.Random | None = None,
    ) -> None:
        self._store = store
        self._resolver = resolver
        self._storage = storage
        self._rng = rng or random.Random()
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

    def pending(self) -> dict[Hashable, float]:
        """GitRepositories waiting in the queue, with simulated seconds until due."""
        return self._queue.pending()

    def failures(self, namespace: str, name: str) -> int:
        """Rate-limited retries of one GitRepository in a row (its backoff exponent)."""
        return self._queue.failures((namespace, name))

    def on_event(self, event_type: str, obj: Obj) -> None:
        """For(GitRepository) with GenerationChanged or ReconcileRequested."""
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

    # ------------------------------------------------------------------ reconcile

    def _handle(self, key: Hashable) -> Result:
        namespace, name = cast(Key, key)
        obj = get_or_none(self._store, PLURAL, namespace, name)
        if obj is None:
            return None
        spec = obj.get("spec") or {}
        status: Obj = copy.deepcopy(obj.get("status") or {})
        finalizers: list[str] = list((obj.get("metadata") or {}).get("finalizers") or [])
        patcher = Patcher(self._store, PLURAL, obj)

        def patch() -> None:
            patcher.patch(status, finalizers)

        if (obj.get("metadata") or {}).get("deletionTimestamp"):
            self._storage.remove_all(namespace, name)
            if FINALIZER in finalizers:
                finalizers.remove(FINALIZER)
            outcome = Outcome(SourceResult.EMPTY)
        elif FINALIZER not in finalizers:
            finalizers.append(FINALIZER)
            outcome = Outcome(SourceResult.REQUEUE)
        elif spec.get("suspend"):
            outcome = Outcome(SourceResult.EMPTY)
        else:
            outcome = self._reconcile(obj, status, patch)
        interval = jittered(parse_duration(str(spec.get("interval", "1m"))), self._rng)
        result = summarize(status, generation(obj), requested_at(obj), outcome, interval)
        patch()
        return result

    def _reconcile(self, obj: Obj, status: Obj, patch: Callable[[], None]) -> Outcome:
        namespace, name = key_of(obj)
        spec = obj.get("spec") or {}
        gen = generation(obj)

        def progressive(drift: bool, message: str) -> None:
            """ProgressiveStatus: Reconciling, and Ready=Unknown on drift or while unknown."""
            cond.mark_reconciling(status, "Progressing", message, gen)
            if drift or cond.get(status, cond.READY) is None or cond.is_unknown(
                status, cond.READY
            ):
                cond.mark(status, cond.READY, "Unknown", "Progressing", message, gen)

        progressive(False, "reconciliation in progress")
        observed = int(status.get("observedGeneration") or 0)
        if gen != observed:
            progressive(False, f"processing object: new generation {observed} -> {gen}")
            patch()
        elif requested_at(obj) != status.get("lastHandledReconcileAt"):
            patch()

        # reconcileStorage
        artifact: Obj | None = status.get("artifact")
        missing = artifact is not None and not self._storage.exists(str(artifact.get("path")))
        if missing:
            status.pop("artifact", None)
            artifact = None
        if not artifact:
            progressive(True, "building artifact" + (": disappeared from storage" if missing
                                                     else ""))
            cond.delete(status, cond.ARTIFACT_IN_STORAGE)
            patch()

        # reconcileSource
        url = str(spec.get("url", ""))
        invalid = url_error(url)
        if invalid is not None:
            message = f"failed to parse url '{url}': {invalid}"
            cond.mark(status, cond.FETCH_FAILED, "True", "URLInvalid", message, gen)
            return Outcome(SourceResult.EMPTY, "stalling", "URLInvalid", message)
        cond.delete(status, cond.ARTIFACT_OUTDATED)
        try:
            repo = self._resolve(url)
            revision, sha = resolve_ref(repo, url, spec.get("ref"))
        except GitFetchError as exc:
            cond.mark(status, cond.FETCH_FAILED, "True", "GitOperationFailed", str(exc), gen)
            return Outcome(SourceResult.EMPTY, "generic", "GitOperationFailed", str(exc))
        stored_message = f"stored artifact for revision '{revision}'"
        if (artifact and artifact.get("revision") == revision
                and cond.is_true(status, cond.ARTIFACT_IN_STORAGE)):
            # the optimised clone: nothing new since the artifact was stored
            cond.delete(status, cond.FETCH_FAILED)
            cond.mark(status, cond.ARTIFACT_IN_STORAGE, "True", "Succeeded", stored_message, gen)
            return Outcome(SourceResult.EMPTY, "ignore", "GitOperationSucceed",
                           f"no changes since last reconciliation: observed revision "
                           f"'{revision}'")
        cond.delete(status, cond.FETCH_FAILED)
        if not artifact or artifact.get("revision") != revision:
            message = f"new upstream revision '{revision}'"
            if artifact:
                cond.mark(status, cond.ARTIFACT_OUTDATED, "True", "NewRevision", message, gen)
            progressive(True, f"building artifact: {message}")
            patch()

        # reconcileArtifact
        if not artifact or artifact.get("revision") != revision:
            try:
                stored = self._storage.store_git(repo, sha, namespace, name)
            except GitFetchError as exc:
                message = f"unable to archive artifact to storage: {exc}"
                cond.mark(status, "StorageOperationFailed", "True", "ArchiveOperationFailed",
                          message, gen)
                return Outcome(SourceResult.EMPTY, "generic", "ArchiveOperationFailed", message)
            status["artifact"] = {
                "digest": stored.digest,
                "lastUpdateTime": now_rfc3339(),
                "path": stored.path,
                "revision": revision,
                "size": stored.size,
                "url": stored.url,
            }
            cond.delete(status, "StorageOperationFailed")
        cond.delete(status, cond.ARTIFACT_OUTDATED)
        cond.mark(status, cond.ARTIFACT_IN_STORAGE, "True", "Succeeded", stored_message, gen)
        return Outcome(SourceResult.SUCCESS)

    def _resolve(self, url: str) -> str:
        try:
            return self._resolver(url)
        except Exception as exc:
            raise GitFetchError(
                f"failed to checkout and determine revision: unable to clone '{url}': "
                f"repository not found: {exc}"
            ) from exc
