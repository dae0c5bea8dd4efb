"""The simulated kustomize-controller: Kustomizations build their path and apply it.

Follows kustomize-controller v1.9's Reconcile: deletion (prune and drop the finalizer),
the finalizer, suspend, source lookup, artifact, dependsOn, then fetch, build (with the real
kustomize, see kustomize.py), apply, prune and health checks, with its condition types,
reasons and messages, lastAppliedRevision, inventory and history, each step's status written
as Flux's patch helper writes it (patcher.py). It reconciles on a generation change, a new
`reconcile.fluxcd.io/requestedAt` and its source's new artifact, then at its jittered
interval. A running health check is waited out, as by default in Flux; only with the
CancelHealthCheckOnNewRevision feature gate does a new trigger cancel it. It owns
Kustomization status and the objects it applies, nothing else.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import random
import tempfile
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import cast

from sandbox.flux import conditions as cond
from sandbox.flux import kustomize
from sandbox.flux.apply_order import in_apply_order
from sandbox.flux.artifacts import ArtifactStorage
from sandbox.flux.clock import SimClock
from sandbox.flux.durations import format_duration, now_rfc3339, parse_duration
from sandbox.flux.health import object_status
from sandbox.flux.patcher import Patcher
from sandbox.flux.runtime import (
    FINALIZER,
    Key,
    Obj,
    StoreLike,
    api_code,
    generation,
    get_or_none,
    jittered,
    key_of,
    requested_at,
    split_api_version,
)
from sandbox.flux.workqueue import RATE_LIMITED, Result, WorkQueue
from sandbox.kube.resources import RESOURCES

log = logging.getLogger(__name__)

PLURAL = "kustomizations"
GROUP = "kustomize.toolkit.fluxcd.io"
OWNER_NAME = f"{GROUP}/name"
OWNER_NAMESPACE = f"{GROUP}/namespace"
HISTORY_LIMIT = 5
MIN_TIMEOUT = 30.0  # GetTimeout never returns less

# (apiVersion, kind) -> (plural, namespaced) for every kind the emulated API serves
_SERVED = {(rt.api_version, rt.kind): (rt.plural, rt.namespaced) for rt in RESOURCES}
_BY_GROUP_KIND = {(rt.group, rt.kind): (rt.plural, rt.namespaced) for rt in RESOURCES}


class _Failure(Exception):
    """Ends a reconcile with Ready=False and this reason; `requeue` in simulated seconds."""

    def __init__(self, reason: str, message: str, requeue: float | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.requeue = requeue


class _Canceled(Exception):
    def __init__(self, trigger: str) -> None:
        super().__init__(trigger)
        self.trigger = trigger


def get_timeout(spec: Obj) -> float:
    """GetTimeout: spec.timeout, else interval - 30s; never below 30s."""
    if spec.get("timeout"):
        timeout = parse_duration(str(spec["timeout"]))
    else:
        timeout = parse_duration(str(spec.get("interval", "10m"))) - 30.0
    return max(timeout, MIN_TIMEOUT)


def should_prune_on_delete(obj: Obj) -> bool:
    """finalizerShouldDeleteResources: not suspended, an inventory, and the deletion policy."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if spec.get("suspend") or not (status.get("inventory") or {}).get("entries"):
        return False
    policy = spec.get("deletionPolicy") or "MirrorPrune"
    if policy == "MirrorPrune":
        return bool(spec.get("prune"))
    return policy in ("Delete", "WaitForTermination")


class KustomizeController:
    def __init__(
        self,
        store: StoreLike,
        storage: ArtifactStorage,
        clock: SimClock,
        requeue_dependency: float = 30.0,
        health_poll: float = 5.0,
        workers: int = 4,
        cancel_health_check_on_new_revision: bool = False,
        rng: random.Random | None = None,
    ) -> None:
        kustomize.kubectl()  # without kubectl there is no simulator, and the error says why
        self._store = store
        self._storage = storage
        self._clock = clock
        self._requeue_dependency = requeue_dependency
        self._health_poll = health_poll  # ssa.WaitOptions.Interval
        self._cancel_on_new = cancel_health_check_on_new_revision
        self._rng = rng or random.Random()
        self._queue = WorkQueue("kustomize-controller", self._handle, clock, workers=workers)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._seen: dict[Key, tuple[int, str | None]] = {}
        self._sources: dict[Key, tuple[str, str, str]] = {}  # ks -> (kind, ns, name)
        self._revisions: dict[tuple[str, str, str], str | None] = {}
        self._active: set[Key] = set()
        self._interrupts: dict[Key, str] = {}

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self._queue.start()
        sources, _ = self._store.list("gitrepositories")
        for source in sources:
            self.on_source_event("ADDED", source)
        items, _ = self._store.list(PLURAL)
        for obj in items:
            self.on_event("ADDED", obj)

    def stop(self) -> None:
        self._stop.set()
        self._clock.wake()  # a health check sleeping on the clock sees the stop
        self._queue.stop()

    def pending(self) -> dict[Hashable, float]:
        """Kustomizations waiting in the queue, with simulated seconds until due."""
        return self._queue.pending()

    # ------------------------------------------------------------------ triggers

    def on_event(self, event_type: str, obj: Obj) -> None:
        """For(Kustomization) with GenerationChanged or ReconcileRequested (a deletion moves
        the generation on too)."""
        key = key_of(obj)
        marker = (generation(obj), requested_at(obj))
        ref = (obj.get("spec") or {}).get("sourceRef") or {}
        with self._lock:
            if event_type == "DELETED":
                self._seen.pop(key, None)
                self._sources.pop(key, None)
                return
            self._sources[key] = (
                str(ref.get("kind", "GitRepository")),
                str(ref.get("namespace") or key[0]),
                str(ref.get("name", "")),
            )
            changed = self._seen.get(key) != marker
            self._seen[key] = marker
            if changed and key in self._active and self._cancel_on_new:
                self._interrupts[key] = f"Kustomization/{key[0]}/{key[1]}"
        if changed:
            self._queue.add(key)

    def on_source_event(self, event_type: str, obj: Obj) -> None:
        """Watches(GitRepository) with SourceRevisionChangePredicate, then
        requestsForRevisionChangeOf: a new artifact revision (or the source's deletion)
        enqueues the Kustomizations on it, except those Ready or Reconciling that already
        attempted that revision."""
        namespace, name = key_of(obj)
        source = (str(obj.get("kind", "GitRepository")), namespace, name)
        revision = ((obj.get("status") or {}).get("artifact") or {}).get("revision")
        with self._lock:
            if event_type == "DELETED":
                self._revisions.pop(source, None)
            elif self._revisions.get(source) == revision:
                return
            else:
                self._revisions[source] = revision
            if revision is None:
                return
            dependents = [k for k, s in self._sources.items() if s == source]
        for key in dependents:
            ks = get_or_none(self._store, PLURAL, *key)
            status = (ks or {}).get("status") or {}
            busy = cond.is_true(status, cond.READY) or cond.is_true(status, cond.RECONCILING)
            if ks is None or (busy and status.get("lastAttemptedRevision") == revision):
                continue
            with self._lock:
                if key in self._active and self._cancel_on_new:
                    self._interrupts[key] = "/".join(source)
            self._queue.add(key)

    # ------------------------------------------------------------------ reconcile

    def _handle(self, key: Hashable) -> Result:
        namespace, name = cast(Key, key)
        obj = get_or_none(self._store, PLURAL, namespace, name)
        if obj is None:
            return None
        with self._lock:
            self._active.add((namespace, name))
            self._interrupts.pop((namespace, name), None)
        try:
            return self._reconcile(obj)
        finally:
            with self._lock:
                self._active.discard((namespace, name))

    def _reconcile(self, obj: Obj) -> Result:
        status: Obj = copy.deepcopy(obj.get("status") or {})
        finalizers: list[str] = list((obj.get("metadata") or {}).get("finalizers") or [])
        patcher = Patcher(self._store, PLURAL, obj)

        def patch() -> None:
            patcher.patch(status, finalizers)

        try:
            return self._steps(obj, status, finalizers, patch)
        finally:  # finalizeStatus, deferred in Reconcile
            self._finalize_status(obj, status)
            patch()

    def _finalize_status(self, obj: Obj, status: Obj) -> None:
        gen = generation(obj)
        token = requested_at(obj)
        if token is not None:
            status["lastHandledReconcileAt"] = token
        if cond.is_true(status, cond.READY):
            cond.delete(status, cond.RECONCILING)
            status["observedGeneration"] = gen
        reconciling = cond.get(status, cond.RECONCILING)
        if cond.is_false(status, cond.READY) and reconciling is not None:
            cond.mark(
                status,
                cond.RECONCILING,
                str(reconciling.get("status", "True")),
                "ProgressingWithRetry",
                str(reconciling.get("message", "")),
                gen,
            )

    def _steps(
        self, obj: Obj, status: Obj, finalizers: list[str], patch: Callable[[], None]
    ) -> Result:
        spec: Obj = obj.get("spec") or {}
        meta: Obj = obj.get("metadata") or {}
        gen = generation(obj)
        if meta.get("deletionTimestamp"):
            if should_prune_on_delete(obj):
                self._prune(((obj.get("status") or {}).get("inventory") or {}).get("entries")
                            or [], set())
            if FINALIZER in finalizers:
                finalizers.remove(FINALIZER)
            return None
        if FINALIZER not in finalizers:
            finalizers.append(FINALIZER)  # first, so that a deletion always finds it
            return RATE_LIMITED  # Requeue: true
        if spec.get("suspend"):
            return None
        interval = parse_duration(str(spec.get("interval", "10m")))
        retry = (
            parse_duration(str(spec["retryInterval"])) if spec.get("retryInterval") else interval
        )
        try:
            self._run(obj, spec, status, gen, retry, patch)
        except _Canceled as canceled:
            cond.mark(
                status,
                cond.READY,
                "False",
                "HealthCheckCanceled",
                f"New reconciliation triggered by {canceled.trigger}",
                gen,
            )
            return RATE_LIMITED  # Requeue: true
        except _Failure as failure:
            cond.mark(status, cond.READY, "False", failure.reason, failure.message, gen)
            if failure.requeue is None:
                return RATE_LIMITED  # an error: retried with backoff
            return failure.requeue
        return jittered(interval, self._rng)

    def _run(
        self,
        obj: Obj,
        spec: Obj,
        status: Obj,
        gen: int,
        retry: float,
        patch: Callable[[], None],
    ) -> None:
        namespace, name = key_of(obj)
        ref = spec.get("sourceRef") or {}
        src_kind = str(ref.get("kind", ""))
        src_ns = str(ref.get("namespace") or namespace)
        src_name = str(ref.get("name", ""))
        if src_kind != "GitRepository":
            raise _Failure("ArtifactFailed", f"source `{src_name}` kind '{src_kind}' not supported")
        source = get_or_none(self._store, "gitrepositories", src_ns, src_name)
        if source is None:
            raise _Failure(
                "ArtifactFailed",
                f'GitRepository.source.toolkit.fluxcd.io "{src_name}" not found',
                retry,
            )
        artifact = (source.get("status") or {}).get("artifact")
        wait = format_duration(self._requeue_dependency)
        if not artifact:
            raise _Failure(
                "ArtifactFailed",
                f"Source artifact not found, retrying in {wait}",
                self._requeue_dependency,
            )
        revision = str(artifact["revision"])
        self._check_dependencies(obj, spec, revision)

        timeout = get_timeout(spec)
        timeout_text = format_duration(timeout)
        started = self._clock.now()
        cond.mark(status, cond.READY, "Unknown", "Progressing", "Reconciliation in progress", gen)
        cond.mark_reconciling(
            status,
            "Progressing",
            f"Fetching manifests for revision {revision} with a timeout of {timeout_text}",
            gen,
        )
        patch()

        with tempfile.TemporaryDirectory(prefix="kustomization-") as tmp:
            root = Path(tmp)
            try:
                self._storage.unpack(str(artifact.get("path", "")), artifact.get("digest"), root)
            except FileNotFoundError as exc:
                raise _Failure(
                    "ArtifactFailed",
                    f"Source is not ready, artifact not found, retrying in {wait}",
                    self._requeue_dependency,
                ) from exc
            except (OSError, ValueError) as exc:
                message = f"failed to extract artifact: {exc}"
                raise _Failure("ArtifactFailed", message, retry) from exc
            rel = str(spec.get("path") or "./").lstrip("/")
            directory = (root / rel).resolve()
            if root.resolve() not in (directory, *directory.parents) or not directory.exists():
                raise _Failure(
                    "ArtifactFailed",
                    f"kustomization path not found: stat {directory}: no such file or directory",
                    retry,
                )
            status["lastAttemptedRevision"] = revision
            cond.mark_reconciling(
                status,
                "Progressing",
                f"Building manifests for revision {revision} with a timeout of {timeout_text}",
                gen,
            )
            patch()
            try:
                text = kustomize.build(directory, root=root, spec=spec)
            except kustomize.KustomizeError as exc:
                raise _Failure("BuildFailed", str(exc), retry) from exc

        objects = kustomize.objects(text)
        digest = "sha256:" + hashlib.sha256(text.encode()).hexdigest()

        def history(reason: str) -> None:
            _upsert_history(status, digest, self._clock.now() - started, reason, revision)

        cond.mark_reconciling(
            status,
            "Progressing",
            f"Detecting drift for revision {revision} with a timeout of {timeout_text}",
            gen,
        )
        patch()
        old_entries = ((status.get("inventory") or {}).get("entries")) or []
        try:
            entries = self._apply(objects, name, namespace, spec.get("commonMetadata") or {})
        except _Failure as failure:
            history("ReconciliationFailed")
            failure.requeue = retry
            raise
        status["inventory"] = {"entries": entries}
        if spec.get("prune"):
            self._prune(old_entries, {e["id"] for e in entries})

        checks = self._health_targets(spec, objects, namespace, name)
        if checks:
            message = (
                f"Running health checks for revision {revision} with a timeout of {timeout_text}"
            )
            cond.mark_reconciling(status, "Progressing", message, gen)
            cond.mark(status, cond.HEALTHY, "Unknown", "Progressing", message, gen)
            patch()
            check_start = self._clock.now()
            error = self._wait_healthy((namespace, name), checks, timeout)
            elapsed = format_duration(self._clock.now() - check_start)
            if error is not None:
                cond.mark(status, cond.HEALTHY, "False", "HealthCheckFailed", error, gen)
                history("HealthCheckFailed")
                raise _Failure(
                    "HealthCheckFailed", f"health check failed after {elapsed}: {error}", retry
                )
            cond.mark(
                status, cond.HEALTHY, "True", "Succeeded", f"Health check passed in {elapsed}", gen
            )
            patch()
        else:
            cond.delete(status, cond.HEALTHY)

        status["lastAppliedRevision"] = revision
        cond.mark(
            status,
            cond.READY,
            "True",
            "ReconciliationSucceeded",
            f"Applied revision: {revision}",
            gen,
        )
        history("ReconciliationSucceeded")

    # ------------------------------------------------------------------ steps

    def _check_dependencies(self, obj: Obj, spec: Obj, revision: str) -> None:
        namespace = key_of(obj)[0]
        ref = spec.get("sourceRef") or {}
        for dep_ref in spec.get("dependsOn") or []:
            dep_ns = str(dep_ref.get("namespace") or namespace)
            dep_name = str(dep_ref.get("name", ""))
            label = f"{dep_ns}/{dep_name}"
            dep = get_or_none(self._store, PLURAL, dep_ns, dep_name)
            if dep is None:
                raise _Failure(
                    "DependencyNotReady",
                    f"dependency '{label}' not found: "
                    f'kustomizations.kustomize.toolkit.fluxcd.io "{dep_name}" not found',
                    self._requeue_dependency,
                )
            dep_status = dep.get("status") or {}
            if (
                not dep_status.get("conditions")
                or generation(dep) != dep_status.get("observedGeneration")
                or not cond.is_true(dep_status, cond.READY)
            ):
                raise _Failure(
                    "DependencyNotReady",
                    f"dependency '{label}' is not ready",
                    self._requeue_dependency,
                )
            dep_src = (dep.get("spec") or {}).get("sourceRef") or {}
            if (
                dep_src.get("name") == ref.get("name")
                and dep_src.get("kind") == ref.get("kind")
                and (dep_src.get("namespace") or dep_ns) == (ref.get("namespace") or namespace)
                and dep_status.get("lastAppliedRevision") != revision
            ):
                raise _Failure(
                    "DependencyNotReady",
                    f"dependency '{label}' revision is not up to date",
                    self._requeue_dependency,
                )

    def _apply(
        self, objects: list[Obj], ks_name: str, ks_namespace: str, common: Obj
    ) -> list[dict[str, str]]:
        entries: list[dict[str, str]] = []
        for manifest in in_apply_order(objects):
            manifest = copy.deepcopy(manifest)
            api_version, kind = str(manifest.get("apiVersion")), str(manifest.get("kind"))
            meta = manifest.setdefault("metadata", {})
            served = _SERVED.get((api_version, kind))
            prefix = f"{meta['namespace']}/" if meta.get("namespace") else ""
            label = f"{kind}/{prefix}{meta.get('name')}"
            if served is None:
                raise _Failure(
                    "ReconciliationFailed",
                    f'{label} dry-run failed: no matches for kind "{kind}" in version '
                    f'"{api_version}"',
                )
            plural, namespaced = served
            meta.setdefault("labels", {}).update(common.get("labels") or {})
            meta["labels"].update({OWNER_NAME: ks_name, OWNER_NAMESPACE: ks_namespace})
            if common.get("annotations"):
                meta.setdefault("annotations", {}).update(common["annotations"])
            obj_ns = str(meta.get("namespace") or "") if namespaced else ""
            if namespaced and not obj_ns:
                raise _Failure(
                    "ReconciliationFailed",
                    f"{label} namespace not specified: the server could not find the requested "
                    "resource",
                )
            if namespaced:
                self._ensure_namespace(obj_ns)
            try:
                self._create_or_update(plural, obj_ns or None, manifest)
            except _Failure:
                raise
            except Exception as exc:
                if api_code(exc) is None:
                    raise
                raise _Failure(
                    "ReconciliationFailed",
                    f"{label} dry-run failed ({getattr(exc, 'reason', '')}): {exc}",
                ) from exc
            group, version = split_api_version(api_version)
            entries.append({"id": f"{obj_ns}_{meta['name']}_{group}_{kind}", "v": version})
        return entries  # in the order applied, as Flux's inventory is

    def _ensure_namespace(self, namespace: str) -> None:
        if get_or_none(self._store, "namespaces", None, namespace) is None:
            try:
                self._store.create(
                    "namespaces",
                    None,
                    {
                        "apiVersion": "v1",
                        "kind": "Namespace",
                        "metadata": {"name": namespace},
                    },
                )
            except Exception as exc:
                if api_code(exc) != 409:
                    raise

    def _create_or_update(self, plural: str, namespace: str | None, manifest: Obj) -> None:
        name = manifest["metadata"]["name"]
        for _ in range(5):
            current = get_or_none(self._store, plural, namespace, name)
            if current is None:
                try:
                    self._store.create(plural, namespace, manifest)
                    return
                except Exception as exc:
                    if api_code(exc) == 409:
                        continue
                    raise
            desired = copy.deepcopy(manifest)
            desired.pop("status", None)
            meta = copy.deepcopy(current["metadata"])
            meta["labels"] = {
                **(meta.get("labels") or {}),
                **(desired["metadata"].get("labels") or {}),
            }
            annotations = {
                **(meta.get("annotations") or {}),
                **(desired["metadata"].get("annotations") or {}),
            }
            if annotations:
                meta["annotations"] = annotations
            desired["metadata"] = meta
            if "status" in current:
                desired["status"] = current["status"]
            try:
                self._store.replace(plural, namespace, name, desired)
                return
            except Exception as exc:
                if api_code(exc) == 409:
                    continue
                raise
        raise _Failure("ReconciliationFailed", f"{plural}/{name}: conflict after retries")

    def _prune(self, old_entries: list[dict[str, str]], keep: set[str]) -> None:
        for entry in old_entries:
            if entry.get("id") in keep:
                continue
            parts = str(entry.get("id", "")).split("_")
            if len(parts) != 4:
                continue
            obj_ns, obj_name, group, kind = parts
            served = _BY_GROUP_KIND.get((group, kind))
            if served is None:
                continue
            plural, namespaced = served
            try:
                self._store.delete(plural, obj_ns if namespaced else None, obj_name)
            except Exception as exc:
                if api_code(exc) != 404:
                    raise

    def _health_targets(
        self, spec: Obj, objects: list[Obj], namespace: str, name: str
    ) -> list[Obj]:
        if spec.get("wait"):
            targets = [
                {
                    "apiVersion": o.get("apiVersion"),
                    "kind": o.get("kind"),
                    "name": (o.get("metadata") or {}).get("name"),
                    "namespace": (o.get("metadata") or {}).get("namespace"),
                }
                for o in objects
            ]
        else:
            targets = [
                {**check, "namespace": check.get("namespace") or namespace}
                for check in spec.get("healthChecks") or []
            ]
        return [
            t
            for t in targets
            if not (
                t.get("kind") == "Kustomization"
                and t.get("name") == name
                and t.get("namespace") == namespace
            )
        ]

    def _wait_healthy(self, key: Key, checks: list[Obj], timeout: float) -> str | None:
        """None when every target is Current within the timeout, else Flux's error message."""
        deadline = self._clock.now() + timeout
        poll = self._health_poll
        while True:
            with self._lock:
                trigger = self._interrupts.pop(key, None)
            if trigger is not None:
                raise _Canceled(trigger)
            results = [(check, object_status(self._store, check)) for check in checks]
            failed = [(c, s) for c, s in results if s == "Failed"]
            pending = [(c, s) for c, s in results if s != "Current"]
            if not pending:
                return None
            if failed:
                return (
                    "failed early due to stalled resources: ["
                    + ", ".join(_describe(c, s) for c, s in failed)
                    + "]"
                )
            if self._clock.now() >= deadline:
                return (
                    "timeout waiting for: [" + ", ".join(_describe(c, s) for c, s in pending) + "]"
                )
            wait = min(poll, max(0.0, deadline - self._clock.now()))
            if self._clock.sleep(wait, self._stop.is_set):
                return "health check canceled: the controller is stopping"


def _describe(check: Obj, state: str) -> str:
    ns = f"{check['namespace']}/" if check.get("namespace") else ""
    return f"{check.get('kind')}/{ns}{check.get('name')} status: '{state}'"


def _upsert_history(status: Obj, digest: str, duration: float, reason: str, revision: str) -> None:
    """History.Upsert: one snapshot per digest, newest first, at most five."""
    now = now_rfc3339()
    entries: list[Obj] = list(status.get("history") or [])
    existing = next((e for e in entries if e.get("digest") == digest), None)
    if existing is not None:
        entries.remove(existing)
        existing.update(
            {
                "lastReconciled": now,
                "lastReconciledDuration": format_duration(duration),
                "lastReconciledStatus": reason,
                "totalReconciliations": int(existing.get("totalReconciliations", 0)) + 1,
                "metadata": {"revision": revision},
            }
        )
        entry = existing
    else:
        entry = {
            "digest": digest,
            "firstReconciled": now,
            "lastReconciled": now,
            "lastReconciledDuration": format_duration(duration),
            "lastReconciledStatus": reason,
            "totalReconciliations": 1,
            "metadata": {"revision": revision},
        }
    status["history"] = [entry, *entries][:HISTORY_LIMIT]
