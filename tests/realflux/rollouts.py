"""A stand-in for the Deployment controller and the kubelets the real API server lacks: it
writes each Deployment's /status as a rolling update would, so kstatus (and so Flux's health
checks and `kubectl rollout status`) judge it as on a real cluster.

Which images run is decided from the image reference, as the sandbox's simulated kubelet does:
a repository containing `does-not-exist` or a tag starting with `broken` never becomes ready
(the rollout hangs until progressDeadlineSeconds, then Progressing=False/
ProgressDeadlineExceeded); a tag starting with `slow` is ready after 20 start delays; anything
else after one. No ReplicaSets or Pods are created: only the Deployment's status is written.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import logging
import math
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

import kubernetes.client
from kubernetes import watch as k8s_watch
from kubernetes.client.exceptions import ApiException

log = logging.getLogger(__name__)
Obj = dict[str, Any]


def image_start(image: str, delay: float) -> float | None:
    """Seconds until a container of `image` is ready, or None when it never is."""
    repository, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (
        image, "", "")
    if "does-not-exist" in repository or tag.startswith("broken"):
        return None
    return delay * 20 if tag.startswith("slow") else delay


def template_hash(template: Obj) -> str:
    """Stands for pod-template-hash: the same template gives the same ReplicaSet name."""
    return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]


def _scaled(value: Any, replicas: int, round_up: bool, default: str) -> int:
    text = str(default if value is None else value)
    if text.endswith("%"):
        exact = replicas * int(text[:-1]) / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(text)


def surge_and_unavailable(spec: Obj, replicas: int) -> tuple[int, int]:
    """maxSurge and maxUnavailable resolved as the Deployment controller does (25% each)."""
    rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
    surge = _scaled(rolling.get("maxSurge"), replicas, True, "25%")
    unavailable = _scaled(rolling.get("maxUnavailable"), replicas, False, "25%")
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


@dataclass
class Track:
    """What the stand-in remembers of one Deployment: its rolled-out template, and since when
    (monotonic seconds) its current template has been rolling out."""

    stable: str | None = None
    rolling: str | None = None
    since: float = 0.0


def _condition(kind: str, status: str, reason: str, message: str) -> Obj:
    return {"type": kind, "status": status, "reason": reason, "message": message}


def desired_status(obj: Obj, track: Track, now: float, delay: float) -> tuple[Obj, float | None]:
    """The status a rollout has reached at `now`, and when (monotonic) to look again."""
    meta, spec = obj["metadata"], obj.get("spec") or {}
    replicas = int(spec.get("replicas", 1))
    current = template_hash(spec.get("template") or {})
    rs_name = f"{meta['name']}-{current}"
    if track.rolling != current:
        track.rolling, track.since = current, now
    images = [str(c.get("image", "")) for c in
              ((spec.get("template") or {}).get("spec") or {}).get("containers") or []]
    starts = [image_start(image, delay) for image in images]
    ready_after = None if None in starts else max([0.0, *(s for s in starts if s is not None)])
    if current != track.stable and ready_after is not None and now >= track.since + ready_after:
        track.stable = current
    status: Obj = {"observedGeneration": int(meta.get("generation", 1))}
    if current == track.stable:
        status.update(replicas=replicas, updatedReplicas=replicas, readyReplicas=replicas,
                      availableReplicas=replicas)
        status["conditions"] = [
            _condition("Available", "True", "MinimumReplicasAvailable",
                       "Deployment has minimum availability."),
            _condition("Progressing", "True", "NewReplicaSetAvailable",
                       f'ReplicaSet "{rs_name}" has successfully progressed.')]
        return _without_zeros(status), None
    surge, unavailable = surge_and_unavailable(spec, replicas)
    old = max(replicas - unavailable, 0) if track.stable else 0
    new = min(replicas, surge + unavailable) if track.stable else replicas
    status.update(replicas=old + new, updatedReplicas=new, readyReplicas=old,
                  availableReplicas=old)
    available = old >= replicas - unavailable
    deadline = spec.get("progressDeadlineSeconds")
    expired = deadline is not None and now >= track.since + float(deadline)
    status["conditions"] = [
        _condition("Available", "True", "MinimumReplicasAvailable",
                   "Deployment has minimum availability.") if available else
        _condition("Available", "False", "MinimumReplicasUnavailable",
                   "Deployment does not have minimum availability."),
        _condition("Progressing", "False", "ProgressDeadlineExceeded",
                   f'ReplicaSet "{rs_name}" has timed out progressing.') if expired else
        _condition("Progressing", "True", "ReplicaSetUpdated",
                   f'ReplicaSet "{rs_name}" is progressing.')]
    wake = [t for t in (
        track.since + ready_after if ready_after is not None else None,
        track.since + float(deadline) if deadline is not None and not expired else None,
    ) if t is not None]
    return _without_zeros(status), min(wake) if wake else None


def _without_zeros(status: Obj) -> Obj:
    """The API omits zero counts (omitempty), and so do we."""
    return {k: v for k, v in status.items() if v != 0 or k == "observedGeneration"}


def _same(current: Obj, wanted: Obj) -> bool:
    def strip(status: Obj) -> Obj:
        conditions = [{k: c.get(k) for k in ("type", "status", "reason", "message")}
                      for c in status.get("conditions") or []]
        return {**{k: v for k, v in status.items() if k != "conditions"},
                "conditions": sorted(conditions, key=lambda c: str(c["type"]))}
    return strip(current) == strip(wanted)


def _stamped(previous: Obj, wanted: Obj) -> Obj:
    """Condition times as the controller keeps them: a transition time moves with the status."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    before = {c.get("type"): c for c in previous.get("conditions") or []}
    for cond in wanted.get("conditions", []):
        old = before.get(cond["type"]) or {}
        same = old.get("status") == cond["status"]
        cond["lastTransitionTime"] = old.get("lastTransitionTime", stamp) if same else stamp
        unchanged = same and old.get("reason") == cond["reason"]
        cond["lastUpdateTime"] = old.get("lastUpdateTime", stamp) if unchanged else stamp
    return wanted


class RolloutStandIn:
    """Watches every Deployment and writes its status; stop() ends both threads."""

    def __init__(self, api: kubernetes.client.ApiClient, start_delay: float = 1.0) -> None:
        self._apps = kubernetes.client.AppsV1Api(api)
        self._delay = start_delay
        self._tracks: dict[str, Track] = {}
        self._queue: queue.Queue[tuple[float, str, str] | None] = queue.Queue()
        self._stop = threading.Event()
        self._watch: k8s_watch.Watch | None = None
        self._threads = [threading.Thread(target=self._watch_loop, name="rollouts-watch",
                                          daemon=True),
                         threading.Thread(target=self._work_loop, name="rollouts-work",
                                          daemon=True)]
        self.writes = 0

    def start(self) -> RolloutStandIn:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._queue.put(None)
        if self._watch is not None:
            self._watch.stop()  # type: ignore[no-untyped-call]
        for thread in self._threads:
            thread.join(timeout=40)

    def _watch_loop(self) -> None:
        version: str | None = None
        while not self._stop.is_set():
            try:
                if version is None:
                    listing = self._apps.list_deployment_for_all_namespaces()
                    version = listing.metadata.resource_version
                    for item in listing.items:
                        self._queue.put((0.0, item.metadata.namespace, item.metadata.name))
                self._watch = k8s_watch.Watch()  # type: ignore[no-untyped-call]
                for event in self._watch.stream(  # type: ignore[no-untyped-call]
                        self._apps.list_deployment_for_all_namespaces,
                        resource_version=version, timeout_seconds=30):
                    meta = event["object"].metadata
                    version = meta.resource_version
                    if event["type"] in ("ADDED", "MODIFIED"):
                        self._queue.put((0.0, meta.namespace, meta.name))
            except ApiException as exc:
                version = None if exc.status == 410 else version
                self._stop.wait(0.5)
            except Exception:  # a broken stream: resume from the last version
                if not self._stop.is_set():
                    log.warning("rollouts: watch broke; resuming", exc_info=True)
                    self._stop.wait(0.5)

    def _work_loop(self) -> None:
        later: list[tuple[float, str, str]] = []
        while not self._stop.is_set():
            now = time.monotonic()
            due = [item for item in later if item[0] <= now]
            later = [item for item in later if item[0] > now]
            timeout = max(0.0, min(item[0] for item in later) - now) if later else None
            if not due:
                with contextlib.suppress(queue.Empty):
                    item = self._queue.get(timeout=timeout)
                    if item is None:
                        return
                    due = [item]
            for _, namespace, name in due:
                wake = self._reconcile(namespace, name)
                if wake is not None:
                    later.append((wake, namespace, name))

    def _reconcile(self, namespace: str, name: str) -> float | None:
        try:
            live = self._apps.read_namespaced_deployment(name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            return time.monotonic() + 0.5
        obj: Obj = self._apps.api_client.sanitize_for_serialization(live)
        track = self._tracks.setdefault(obj["metadata"]["uid"], Track())
        wanted, wake = desired_status(obj, track, time.monotonic(), self._delay)
        previous: Obj = obj.get("status") or {}
        if _same(previous, wanted):
            return wake
        obj["status"] = _stamped(previous, wanted)
        try:
            self._apps.replace_namespaced_deployment_status(name, namespace, obj)
            self.writes += 1
        except ApiException as exc:
            if exc.status != 404:  # a conflict: the watch brings the newer object
                return time.monotonic() + 0.2
        return wake
