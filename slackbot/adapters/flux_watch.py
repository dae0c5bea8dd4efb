"""One watch on Kustomizations, shared by every live promotion (not a poll per promotion).

A single background thread per cluster streams Kustomization events cluster-wide and hands
each status to a callback; it resumes from the last resourceVersion after a disconnect and
re-lists after a 410 Expired. A read that hangs is cut by its timeout (the server closes a
quiet stream after timeoutSeconds; the client gives up a little later), and a broken stream
is reconnected after an exponential backoff with jitter, capped at 30 s, reset by the next
event; each failure and each answer is told to the outage board. It decides nothing: the
wiring connects the callback to the engine.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypedDict

from kubernetes import client as k8s
from kubernetes import watch as k8s_watch
from kubernetes.client.exceptions import ApiException

from slackbot.adapters.flux import KS, TIMEOUTS, json_object, kustomization_status, problem
from slackbot.downtime import Downtime
from slackbot.outages import OutageBoard, Problem, Service
from slackbot.ports import KustomizationStatus

RECONNECT_FIRST, RECONNECT_CAP = 1.0, 30.0

log = logging.getLogger(__name__)


class WatchEvent(TypedDict):
    """One event of `Watch.stream` over custom objects: the object is decoded JSON."""

    type: str
    object: dict[str, Any]


class KustomizationWatch:
    def __init__(self, api: k8s.ApiClient, on_status: Callable[[KustomizationStatus], None],
                 *, timeout_seconds: int = 60, cluster: str | None = None,
                 outages: OutageBoard | None = None):
        self._custom = k8s.CustomObjectsApi(api)
        self._on_status = on_status
        self._timeout = timeout_seconds
        self.cluster = cluster  # the pipeline's name of the cluster watched (None: the bot's)
        self._outages = outages
        self._failures = 0
        what = f"the Kubernetes API{f' of cluster {cluster}' if cluster else ''}"
        self._downtime = Downtime(f"{what} (kustomization watch)", log, first=RECONNECT_FIRST,
                                  cap=RECONNECT_CAP)
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
        listing = json_object(self._custom.list_cluster_custom_object(
            group, version, plural, _request_timeout=TIMEOUTS))
        self.resource_version = listing["metadata"]["resourceVersion"]
        for item in listing.get("items", []):
            self._deliver(item)

    def _deliver(self, obj: dict[str, Any]) -> None:
        self.events_seen += 1
        try:
            self._on_status(kustomization_status(obj, self.cluster))
        except Exception:  # one bad handler call must not end the shared watch
            log.exception("kustomization watch: the handler failed")

    def _events(self, watch: k8s_watch.Watch) -> Iterator[WatchEvent | None]:
        """The typed boundary over `Watch.stream`, which kubernetes leaves unannotated."""
        group, version, plural = KS
        events: Iterator[WatchEvent | None] = watch.stream(  # type: ignore[no-untyped-call]
            self._custom.list_cluster_custom_object, group, version, plural,
            resource_version=self.resource_version, allow_watch_bookmarks=True,
            timeout_seconds=self._timeout, _request_timeout=(TIMEOUTS[0], self._timeout + 10),
        )
        return events

    def _answered(self) -> None:
        self._failures = 0
        self._downtime.answered()
        if self._outages is not None:
            self._outages.answering(Service.KUBERNETES, self.cluster)

    def _failed(self, exc: BaseException) -> None:
        """Wait before reconnecting: 1, 2, 4 ... 30 s, each drawn down to half (jitter)."""
        self._failures += 1
        found = problem(exc) or Problem.UNREACHABLE
        if self._outages is not None:
            self._outages.failing(Service.KUBERNETES, found, self.cluster)
        delay = self._downtime.failed(exc)  # one line an outage, not one a reconnect
        self._stop.wait(random.uniform(delay / 2, delay))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.resource_version is None:
                    self._list()
                    if self._failures:
                        self._answered()
                self._watch = k8s_watch.Watch()  # type: ignore[no-untyped-call]  # unannotated SDK
                self.connected.set()
                for event in self._events(self._watch):
                    if self._stop.is_set():
                        break
                    if event is None:
                        continue
                    if self._failures:
                        self._answered()
                    obj = event["object"]
                    rv = obj.get("metadata", {}).get("resourceVersion")
                    if rv:
                        self.resource_version = rv
                    if event["type"] in ("ADDED", "MODIFIED"):
                        self._deliver(obj)
                if self._failures:  # the server closed a quiet stream: it answers
                    self._answered()
            except ApiException as exc:
                if exc.status == 410:
                    log.info("kustomization watch: resourceVersion expired; listing again")
                    self.resource_version = None
                    continue
                self._failed(exc)
            except Exception as exc:
                if self._stop.is_set():
                    break
                self._failed(exc)

    def _named(self) -> str:
        return f" of cluster {self.cluster}" if self.cluster else ""
