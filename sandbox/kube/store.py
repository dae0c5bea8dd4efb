"""The object store of the emulated cluster: the apiserver's registry semantics, in process.

Owns objects, the global resourceVersion counter, metadata bookkeeping (uid, timestamps,
generation), optimistic concurrency, the status subresource split, a bounded history of
watch events, and delivery of write notifications. It must not speak HTTP; the server and
the Flux simulator both sit on this API. Everything it returns is a deep copy.
"""

from __future__ import annotations

import builtins
import collections
import copy
import logging
import queue
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sandbox.kube import admission
from sandbox.kube.errors import (
    ApiError,
    already_exists,
    bad_request,
    conflict,
    expired,
    invalid,
    not_found,
)
from sandbox.kube.patching import MERGE_PATCH, apply_patch, merge_patch
from sandbox.kube.resources import BY_PLURAL, ResourceType

__all__ = ["ApiError", "Store", "WatchEvent", "WatchStream"]

log = logging.getLogger(__name__)

Validator = Callable[[str, dict[str, Any]], None]
Subscriber = Callable[[str, str, dict[str, Any]], None]

_NAMESPACES = BY_PLURAL["namespaces"]


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class WatchEvent:
    """One write as the watch cache keeps it: the object after the write and before it."""

    resource_version: int
    type: str  # ADDED | MODIFIED | DELETED
    plural: str
    namespace: str | None
    obj: dict[str, Any]
    old: dict[str, Any] | None


class WatchStream:
    """Events of one watch, in order. Filled by the store under its lock, read by one consumer."""

    def __init__(
        self,
        store: Store,
        plural: str,
        namespace: str | None,
        predicate: Callable[[dict[str, Any]], bool],
    ) -> None:
        self._store = store
        self.plural = plural
        self.namespace = namespace
        self._predicate = predicate
        self._queue: queue.SimpleQueue[tuple[str, dict[str, Any]] | None] = queue.SimpleQueue()
        self.closed = False

    def wants(self, event: WatchEvent) -> bool:
        return event.plural == self.plural and (
            self.namespace is None or event.namespace == self.namespace
        )

    def offer(self, event: WatchEvent) -> None:
        """Translates a store event through the selector, as the watch cache does."""
        now = self._predicate(event.obj)
        if event.type == "MODIFIED" and event.old is not None:
            before = self._predicate(event.old)
            if now and not before:
                self._queue.put(("ADDED", event.obj))
            elif before and not now:
                self._queue.put(("DELETED", event.obj))
            elif now:
                self._queue.put(("MODIFIED", event.obj))
        elif now:
            self._queue.put((event.type, event.obj))

    def offer_initial(self, obj: dict[str, Any]) -> None:
        if self._predicate(obj):
            self._queue.put(("ADDED", obj))

    def next(self, timeout: float) -> tuple[str, dict[str, Any]] | None:
        """The next (type, object), or None on timeout or once closed."""
        if self.closed:
            return None
        try:
            item = self._queue.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return None
        if item is None:
            self.closed = True
            return None
        return item[0], copy.deepcopy(item[1])

    def bookmark_version(self) -> str | None:
        """The store's resourceVersion if nothing is pending for this watch, else None."""
        return self._store._bookmark_version(self)

    def pending(self) -> bool:
        return not self._queue.empty()

    def close(self) -> None:
        if not self.closed:
            self._queue.put(None)
        self._store._forget(self)


class Store:
    """Thread-safe object store of the emulated cluster. Everything returned is a deep copy.

    validator(plural, obj) raises ApiError(422); by default it is the emulator's admission
    (the Flux CRD schemas and the built-in kinds' required fields). Subscriber callbacks run
    after each write, outside the store lock, in write order, one at a time: keep them quick
    (hand work to your own thread); a callback may write to the store.
    """

    def __init__(self, validator: Validator | None = None, history_size: int = 1000) -> None:
        self._validator: Validator = validator if validator is not None else admission.validate
        self._lock = threading.RLock()
        self._objects: dict[str, dict[tuple[str, str], dict[str, Any]]] = {
            plural: {} for plural in BY_PLURAL
        }
        self._rv = 0
        self._history: collections.deque[WatchEvent] = collections.deque(maxlen=history_size)
        self._compacted_rv = 0
        self._watches: set[WatchStream] = set()
        self._subscribers: list[Subscriber] = []
        self._pending: collections.deque[WatchEvent] = collections.deque()
        self._dispatching = threading.Lock()

    # ----------------------------------------------------------------- reads

    @property
    def resource_version(self) -> str:
        with self._lock:
            return str(self._rv)

    def get(self, plural: str, namespace: str | None, name: str) -> dict[str, Any]:
        rt = self._type(plural)
        with self._lock:
            return copy.deepcopy(self._current(rt, namespace, name))

    def list(
        self,
        plural: str,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> tuple[builtins.list[dict[str, Any]], str]:
        """Items sorted by namespace and name, and the list's resourceVersion."""
        from sandbox.kube.selectors import object_filter

        rt = self._type(plural)
        predicate = object_filter(plural, label_selector, field_selector)
        with self._lock:
            items = [
                copy.deepcopy(obj)
                for (ns, _), obj in sorted(self._objects[rt.plural].items())
                if (namespace is None or not rt.namespaced or ns == namespace) and predicate(obj)
            ]
            return items, str(self._rv)

    # ----------------------------------------------------------------- writes

    def create(self, plural: str, namespace: str | None, obj: dict[str, Any]) -> dict[str, Any]:
        rt = self._type(plural)
        if not isinstance(obj, dict):
            raise bad_request(f"the body of the request must be a {rt.kind} object")
        new = copy.deepcopy(obj)
        self._check_type_meta(rt, new)
        meta = new.get("metadata")
        if meta is None:
            meta = new["metadata"] = {}
        if not isinstance(meta, dict):
            raise bad_request("metadata must be an object")
        namespace = self._resolve_namespace(rt, namespace, meta)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = f"{meta['generateName']}{secrets.token_hex(3)[:5]}"
        name = meta.get("name") or ""
        if not name:
            raise invalid(
                rt,
                "",
                [
                    (
                        "FieldValueRequired",
                        "metadata.name",
                        "Required value: name or generateName is required",
                    )
                ],
            )
        for key in (
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "deletionTimestamp",
            "generation",
            "managedFields",
            "selfLink",
        ):
            meta.pop(key, None)
        if rt.status_subresource:
            new.pop("status", None)
        admission.apply_defaults(rt.plural, new, creating=True)
        with self._lock:  # NamespaceLifecycle admission runs before validation
            if rt.namespaced and ("", namespace) not in self._objects["namespaces"]:
                raise not_found(_NAMESPACES, namespace or "")
        self._validator(rt.plural, new)
        with self._lock:
            if rt.namespaced and ("", namespace) not in self._objects["namespaces"]:
                raise not_found(_NAMESPACES, namespace or "")
            obj_key = (namespace or "", name)
            if obj_key in self._objects[rt.plural]:
                raise already_exists(rt, name)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = now_rfc3339()
            if rt.has_generation:
                meta["generation"] = 1
            self._commit(rt, obj_key, "ADDED", new, None)
        self._drain()
        return copy.deepcopy(new)

    def replace(
        self, plural: str, namespace: str | None, name: str, obj: dict[str, Any]
    ) -> dict[str, Any]:
        """PUT: stale metadata.resourceVersion -> 409; .status ignored with a status subresource."""
        rt = self._type(plural)
        if not isinstance(obj, dict):
            raise bad_request(f"the body of the request must be a {rt.kind} object")
        body_name = (
            (obj.get("metadata") or {}).get("name")
            if isinstance(obj.get("metadata"), dict)
            else None
        )
        if body_name and body_name != name:
            raise bad_request(
                f"the name of the object ({body_name}) does not match the name on the URL ({name})"
            )
        return self._update(rt, namespace, name, lambda current: copy.deepcopy(obj), "main")

    def patch(
        self,
        plural: str,
        namespace: str | None,
        name: str,
        patch: dict[str, Any] | builtins.list[Any],
        content_type: str,
    ) -> dict[str, Any]:
        """merge-patch, json-patch, or strategic-merge (built-in kinds only; 415 for CRDs)."""
        rt = self._type(plural)
        admission.check_patch_type(rt, content_type)
        return self._update(
            rt, namespace, name, lambda current: apply_patch(current, patch, content_type), "main"
        )

    def replace_status(
        self,
        plural: str,
        namespace: str | None,
        name: str,
        status: dict[str, Any],
        resource_version: str | None = None,
    ) -> dict[str, Any]:
        """Writes only .status (what controllers do); resource_version: optional precondition."""
        rt = self._type(plural)

        def build(current: dict[str, Any]) -> dict[str, Any]:
            new = copy.deepcopy(current)
            new["status"] = copy.deepcopy(status)
            if resource_version is not None:
                new["metadata"]["resourceVersion"] = resource_version
            return new

        return self._update(rt, namespace, name, build, "status")

    def patch_status(
        self, plural: str, namespace: str | None, name: str, patch: dict[str, Any]
    ) -> dict[str, Any]:
        """Merge-patch of the status object itself: patch={"observedGeneration": 2} for example."""
        rt = self._type(plural)

        def build(current: dict[str, Any]) -> dict[str, Any]:
            new = copy.deepcopy(current)
            new["status"] = merge_patch(current.get("status") or {}, patch)
            return new

        return self._update(rt, namespace, name, build, "status")

    def write_subresource_status(
        self,
        plural: str,
        namespace: str | None,
        name: str,
        build: Callable[[dict[str, Any]], Any],
    ) -> dict[str, Any]:
        """The /status endpoint: build(current) returns a whole object; only its status is kept."""
        return self._update(self._type(plural), namespace, name, build, "status")

    def patch_subresource_status(
        self, plural: str, namespace: str | None, name: str, patch: Any, content_type: str
    ) -> dict[str, Any]:
        """PATCH on /status: any patch type of the kind, applied to the whole object."""
        rt = self._type(plural)
        admission.check_patch_type(rt, content_type)
        return self._update(
            rt,
            namespace,
            name,
            lambda current: apply_patch(current, patch, content_type),
            "status",
        )

    def delete(self, plural: str, namespace: str | None, name: str) -> dict[str, Any]:
        """Deletes at once, unless the object has finalizers: then, as the apiserver's
        markAsDeleting, it only gets a deletionTimestamp (and its generation moves on), and
        goes when an update leaves it no finalizer. A namespace takes its objects with it."""
        rt = self._type(plural)
        with self._lock:
            current = self._current(rt, namespace, name)
            key = (namespace or "" if rt.namespaced else "", name)
            if current["metadata"].get("finalizers"):
                if current["metadata"].get("deletionTimestamp"):
                    return copy.deepcopy(current)
                marked = copy.deepcopy(current)
                meta = marked["metadata"]
                if rt.has_generation and int(meta.get("generation") or 0) > 0:
                    meta["generation"] = int(meta["generation"]) + 1
                meta["deletionTimestamp"] = now_rfc3339()
                meta["deletionGracePeriodSeconds"] = 0
                self._commit(rt, key, "MODIFIED", marked, current)
                deleted = copy.deepcopy(marked)
            else:
                if rt.plural == "namespaces":
                    for other in BY_PLURAL.values():
                        if other.namespaced:
                            for item in sorted(k for k in self._objects[other.plural]
                                               if k[0] == name):
                                self._remove(other, item)
                self._remove(rt, key)
                deleted = copy.deepcopy(current)
                deleted["metadata"]["resourceVersion"] = str(self._rv)
        self._drain()
        return deleted

    # ------------------------------------------------------------ notification

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """callback(event_type, plural, obj) after each write; returns an unsubscribe function."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def watch(
        self,
        plural: str,
        namespace: str | None = None,
        resource_version: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> WatchStream:
        """A watch from resource_version (every later event), or from now with the current
        objects as ADDED when it is empty or "0". Raises ApiError 410 when compacted."""
        from sandbox.kube.selectors import object_filter

        rt = self._type(plural)
        predicate = object_filter(plural, label_selector, field_selector)
        since: int | None = None
        if resource_version not in (None, "", "0"):
            try:
                since = int(str(resource_version))
            except ValueError:
                raise invalid_rv(resource_version) from None
        ns = namespace if rt.namespaced else None
        stream = WatchStream(self, rt.plural, ns, predicate)
        with self._lock:
            if since is None:
                for (obj_ns, _), obj in sorted(self._objects[rt.plural].items()):
                    if ns is None or obj_ns == ns:
                        stream.offer_initial(obj)
            else:
                if since < self._compacted_rv:
                    raise expired(since, self._compacted_rv + 1)
                for event in self._history:
                    if event.resource_version > since and stream.wants(event):
                        stream.offer(event)
            self._watches.add(stream)
        return stream

    def compact(self) -> None:
        """Forgets the event history, as etcd compaction does: older versions then get 410."""
        with self._lock:
            self._history.clear()
            self._compacted_rv = self._rv

    def close_watches(self) -> None:
        with self._lock:
            watches = list(self._watches)
        for stream in watches:
            stream.close()

    # --------------------------------------------------------------- internals

    def _type(self, plural: str) -> ResourceType:
        rt = BY_PLURAL.get(plural)
        if rt is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        return rt

    def _current(self, rt: ResourceType, namespace: str | None, name: str) -> dict[str, Any]:
        key = ((namespace or "") if rt.namespaced else "", name)
        obj = self._objects[rt.plural].get(key)
        if obj is None:
            raise not_found(rt, name)
        return obj

    @staticmethod
    def _check_type_meta(rt: ResourceType, obj: dict[str, Any]) -> None:
        kind = obj.setdefault("kind", rt.kind)
        api_version = obj.setdefault("apiVersion", rt.api_version)
        if api_version != rt.api_version:
            raise bad_request(
                f"the API version in the data ({api_version}) does not match the expected "
                f"API version ({rt.api_version})"
            )
        if kind != rt.kind:
            raise bad_request(
                f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})"
            )

    @staticmethod
    def _resolve_namespace(
        rt: ResourceType, namespace: str | None, meta: dict[str, Any]
    ) -> str | None:
        if not rt.namespaced:
            meta.pop("namespace", None)
            return None
        body_ns = meta.get("namespace")
        if namespace is None:
            namespace = body_ns or None
        if not namespace:
            raise bad_request("the server could not find the requested resource: namespace")
        if body_ns and body_ns != namespace:
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
        meta["namespace"] = namespace
        return namespace

    def _update(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        build: Callable[[dict[str, Any]], Any],
        target: str,  # "main" or "status"
    ) -> dict[str, Any]:
        with self._lock:
            current = self._current(rt, namespace, name)
            new = build(copy.deepcopy(current))
            if not isinstance(new, dict):
                raise bad_request(f"the body of the request must be a {rt.kind} object")
            self._check_type_meta(rt, new)
            meta = new.get("metadata")
            if meta is None:
                meta = new["metadata"] = {}
            if not isinstance(meta, dict):
                raise bad_request("metadata must be an object")
            if meta.get("name") and meta["name"] != name:
                raise bad_request(
                    f"the name of the object ({meta['name']}) does not match the name on the "
                    f"URL ({name})"
                )
            body_ns = meta.get("namespace")
            if rt.namespaced and body_ns and body_ns != current["metadata"]["namespace"]:
                raise bad_request(
                    "the namespace of the provided object does not match the namespace sent "
                    "on the request"
                )
            sent_rv = meta.get("resourceVersion")
            if sent_rv not in (None, "") and str(sent_rv) != current["metadata"]["resourceVersion"]:
                raise conflict(rt, name)
            if target == "status":
                status = new.get("status")
                new = copy.deepcopy(current)
                if status is None:
                    new.pop("status", None)
                else:
                    new["status"] = status
            else:
                if rt.status_subresource:
                    if "status" in current:
                        new["status"] = copy.deepcopy(current["status"])
                    else:
                        new.pop("status", None)
                meta = new["metadata"]
                for key in (
                    "uid",
                    "creationTimestamp",
                    "generation",
                    "namespace",
                    "name",
                    "deletionTimestamp",
                    "deletionGracePeriodSeconds",
                ):
                    if key in current["metadata"]:
                        meta[key] = current["metadata"][key]
                    else:
                        meta.pop(key, None)
                if current["metadata"].get("deletionTimestamp"):
                    added = set(meta.get("finalizers") or []) - set(
                        current["metadata"].get("finalizers") or []
                    )
                    if added:
                        raise invalid(
                            rt,
                            name,
                            [
                                (
                                    "FieldValueForbidden",
                                    "metadata.finalizers",
                                    "Forbidden: no new finalizers can be added if the object "
                                    "is being deleted, found new finalizers "
                                    f"{sorted(added)!r}",
                                )
                            ],
                        )
            new["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            new["metadata"].pop("managedFields", None)
            admission.apply_defaults(rt.plural, new, creating=False)
            if rt.has_generation and _spec_of(new) != _spec_of(current):
                new["metadata"]["generation"] = int(current["metadata"].get("generation", 0)) + 1
            if new == current:
                return copy.deepcopy(current)  # a no-op write changes nothing, as in etcd
            self._validator(rt.plural, new)
            obj_key = (str(current["metadata"].get("namespace", "")), name)
            if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
                self._objects[rt.plural][obj_key] = new  # the last finalizer went: it is deleted
                self._remove(rt, obj_key)
            else:
                self._commit(rt, obj_key, "MODIFIED", new, current)
        self._drain()
        return copy.deepcopy(new)

    def _commit(
        self,
        rt: ResourceType,
        key: tuple[str, str],
        event_type: str,
        new: dict[str, Any],
        old: dict[str, Any] | None,
    ) -> None:
        self._rv += 1
        new["metadata"]["resourceVersion"] = str(self._rv)
        self._objects[rt.plural][key] = new
        self._record(rt, event_type, copy.deepcopy(new), old)

    def _remove(self, rt: ResourceType, key: tuple[str, str]) -> None:
        obj = self._objects[rt.plural].pop(key)
        self._rv += 1
        gone = copy.deepcopy(obj)
        gone["metadata"]["resourceVersion"] = str(self._rv)
        self._record(rt, "DELETED", gone, None)

    def _record(
        self, rt: ResourceType, event_type: str, obj: dict[str, Any], old: dict[str, Any] | None
    ) -> None:
        namespace = obj["metadata"].get("namespace") if rt.namespaced else None
        event = WatchEvent(self._rv, event_type, rt.plural, namespace, obj, old)
        if self._history.maxlen is not None and len(self._history) == self._history.maxlen:
            self._compacted_rv = self._history[0].resource_version
        self._history.append(event)
        for stream in self._watches:
            if stream.wants(event):
                stream.offer(event)
        self._pending.append(event)

    def _bookmark_version(self, stream: WatchStream) -> str | None:
        with self._lock:
            return None if stream.pending() else str(self._rv)

    def _forget(self, stream: WatchStream) -> None:
        with self._lock:
            self._watches.discard(stream)

    def _drain(self) -> None:
        """Delivers pending events to subscribers, in order, from one thread at a time."""
        while self._pending:
            if not self._dispatching.acquire(blocking=False):
                return  # the thread holding it delivers ours too
            try:
                while True:
                    with self._lock:
                        if not self._pending:
                            break
                        event = self._pending.popleft()
                        subscribers = list(self._subscribers)
                    for callback in subscribers:
                        try:
                            callback(event.type, event.plural, copy.deepcopy(event.obj))
                        except Exception:
                            log.exception(
                                "store subscriber failed on %s %s", event.type, event.plural
                            )
            finally:
                self._dispatching.release()


def _spec_of(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


def invalid_rv(resource_version: object) -> ApiError:
    return bad_request(f"invalid resource version: {resource_version!r}")


# MERGE_PATCH is re-exported for callers that patch through the store.
DEFAULT_PATCH_TYPE = MERGE_PATCH
__all__ += ["DEFAULT_PATCH_TYPE"]
