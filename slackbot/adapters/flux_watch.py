"""One watch on Kustomizations, shared by every live promotion (not a poll per promotion).

A single background thread streams Kustomization events cluster-wide and hands each status to
a callback; it resumes from the last resourceVersion after a disconnect and re-lists after a
410 Expired. It decides nothing: the wiring connects the callback to the engine.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypedDict

from kubernetes import client as k8s
from kubernetes import watch as k8s_watch
from kubernetes.client.exceptions import ApiException

from slackbot.adapters.flux import KS, json_object, kustomization_status
from slackbot.ports import KustomizationStatus

log = logging.getLogger(__name__)


class WatchEvent(TypedDict):
    """One event of `Watch.stream` over custom objects: the object is decoded JSON."""

    type: str
    object: dict[str, Any]


class KustomizationWatch:
    def __init__(self, api: k8s.ApiClient, on_status: Callable[[KustomizationStatus], None],
                 *, timeout_seconds: int = 60):
        self._custom = k8s.CustomObjectsApi(api)
        self._on_status = on_status
        self._timeout = timeout_seconds
        self._stop = threading.Event()
        self._watch: k8s_watch.Watch | None = None
        self._thread: threading.Thread | None = None
        self.resource_version: str | None = None
        self.events_seen = 0
        self.connected = threading.Event()

    @property
    def started(self) -> bool:
        return self._thread is not None

    def start(self) -> KustomizationWatch:
        self._thread = threading.Thread(target=self._run, name="kustomization-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._watch is not None:
            self._watch.stop()  # type: ignore[no-untyped-call]  # kubernetes.watch is unannotated
        if self._thread is not None:
            self._thread.join(timeout=self._timeout + 5)

    def _list(self) -> None:
        group, version, plural = KS
        listing = json_object(self._custom.list_cluster_custom_object(group, version, plural))
        self.resource_version = listing["metadata"]["resourceVersion"]
        for item in listing.get("items", []):
            self._deliver(item)

    def _deliver(self, obj: dict[str, Any]) -> None:
        self.events_seen += 1
        try:
            self._on_status(kustomization_status(obj))
        except Exception:  # one bad handler call must not end the shared watch
            log.exception("kustomization watch: the handler failed")

    def _events(self, watch: k8s_watch.Watch) -> Iterator[WatchEvent | None]:
        """The typed boundary over `Watch.stream`, which kubernetes leaves unannotated."""
        group, version, plural = KS
        events: Iterator[WatchEvent | None] = watch.stream(  # type: ignore[no-untyped-call]
            self._custom.list_cluster_custom_object, group, version, plural,
            resource_version=self.resource_version, allow_watch_bookmarks=True,
            timeout_seconds=self._timeout,
        )
        return events

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.resource_version is None:
                    self._list()
                self._watch = k8s_watch.Watch()  # type: ignore[no-untyped-call]  # unannotated SDK
                self.connected.set()
                for event in self._events(self._watch):
                    if self._stop.is_set():
                        break
                    if event is None:
                        continue
                    obj = event["object"]
                    rv = obj.get("metadata", {}).get("resourceVersion")
                    if rv:
                        self.resource_version = rv
                    if event["type"] in ("ADDED", "MODIFIED"):
                        self._deliver(obj)
            except ApiException as exc:
                if exc.status == 410:
                    log.info("kustomization watch: resourceVersion expired; listing again")
                    self.resource_version = None
                    continue
                log.warning("kustomization watch: %s %s; reconnecting", exc.status, exc.reason)
                self._stop.wait(1.0)
            except Exception:
                if self._stop.is_set():
                    break
                log.warning("kustomization watch: stream broke; reconnecting", exc_info=True)
                self._stop.wait(1.0)
