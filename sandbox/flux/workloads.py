"""A simulated deployment controller and kubelet: Deployments get Pods that start, or do not.

For each Deployment it keeps spec.replicas Pods of the current template (named and labelled
as a ReplicaSet's would be), starts them after a simulated delay, removes the old template's
Pods once the new ones are ready, and writes the Deployment status and conditions the real
controller writes. Whether a container can run is decided by its image reference alone:

- a repository containing `does-not-exist` never pulls: the Pod stays Pending in
  ErrImagePull / ImagePullBackOff;
- a tag starting with `broken` starts and crashes: Running, CrashLoopBackOff, restartCount rising;
- a tag starting with `slow` takes twenty times the normal start delay, then is ready;
- anything else is Running and Ready after the start delay.

It owns Pods and Deployment status only; it must not touch Flux objects.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import secrets
import threading
import uuid
from collections.abc import Hashable
from typing import Any, cast

from sandbox.flux import conditions as cond
from sandbox.flux.clock import SimClock
from sandbox.flux.durations import now_rfc3339
from sandbox.flux.health import rollout_status
from sandbox.flux.runtime import (
    Key,
    Obj,
    StoreLike,
    api_code,
    generation,
    get_or_none,
    key_of,
)
from sandbox.flux.workqueue import WorkQueue

log = logging.getLogger(__name__)

NODE_NAME = "sandbox-node-1"
HASH_LABEL = "pod-template-hash"
_SAFE = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet of Kubernetes' SafeEncodeString
CRASH_BACKOFF_START = 10.0
CRASH_BACKOFF_MAX = 300.0


def split_image(image: str) -> tuple[str, str | None, str | None]:
    """(name, tag, digest) of an image reference; the tag follows the last ':' of the last part."""
    digest = None
    if "@" in image:
        image, digest = image.split("@", 1)
    tag = None
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        image, tag = image.rsplit(":", 1)
    return image, tag, digest


def image_fault(image: str) -> str | None:
    """'ImagePullBackOff', 'CrashLoopBackOff' or None for an image reference (the rule above)."""
    name, tag, _ = split_image(image)
    if "does-not-exist" in name:
        return "ImagePullBackOff"
    if (tag or "").startswith("broken"):
        return "CrashLoopBackOff"
    return None


def template_hash(template: Obj) -> str:
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    return "".join(_SAFE[b % len(_SAFE)] for b in digest[:10])


def _random_suffix(length: int = 5) -> str:
    return "".join(secrets.choice(_SAFE) for _ in range(length))


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _max_unavailable(spec: Obj, desired: int) -> int:
    value: Any = ((spec.get("strategy") or {}).get("rollingUpdate") or {}).get(
        "maxUnavailable", "25%"
    )
    if isinstance(value, str) and value.endswith("%"):
        return int(desired * int(value[:-1]) // 100)
    return int(value)


class DeploymentController:
    def __init__(
        self, store: StoreLike, clock: SimClock, pod_start_delay: float = 5.0
    ) -> None:
        self._store = store
        self._clock = clock
        self._start_delay = pod_start_delay
        self._queue = WorkQueue("deployment-controller", self._handle, clock, workers=2)
        self._lock = threading.Lock()
        self._seen: dict[Key, int] = {}
        self._due: dict[str, float] = {}  # pod uid -> monotonic time of its next kubelet step
        self._progress: dict[Key, tuple[str, int, float]] = {}  # (hash, ready, since)

    def start(self) -> None:
        self._queue.start()
        items, _ = self._store.list("deployments")
        for obj in items:
            self.on_event("ADDED", obj)

    def stop(self) -> None:
        self._queue.stop()

    def on_event(self, event_type: str, obj: Obj) -> None:
        key = key_of(obj)
        with self._lock:
            if event_type == "DELETED":
                self._seen.pop(key, None)
            elif self._seen.get(key) == generation(obj):
                return
            else:
                self._seen[key] = generation(obj)
        self._queue.add(key)

    def on_pod_event(self, event_type: str, pod: Obj) -> None:
        """A deleted Pod brings its Deployment back to reconcile (and replace it)."""
        if event_type != "DELETED":
            return
        for owner in (pod.get("metadata") or {}).get("ownerReferences") or []:
            if owner.get("kind") == "ReplicaSet" and "-" in str(owner.get("name", "")):
                deployment = str(owner["name"]).rsplit("-", 1)[0]
                self._queue.add((key_of(pod)[0], deployment))

    # ------------------------------------------------------------------ reconcile

    def _handle(self, key: Hashable) -> float | None:
        namespace, name = cast(Key, key)
        deployment = get_or_none(self._store, "deployments", namespace, name)
        pods = self._owned_pods(namespace, name, deployment)
        if deployment is None:
            for pod in pods:
                self._delete_pod(pod)
            with self._lock:
                self._progress.pop((namespace, name), None)
            return None
        spec = deployment.get("spec") or {}
        desired = int(spec.get("replicas", 1))
        template = spec.get("template") or {}
        pod_hash = template_hash(template)
        rs_name = f"{name}-{pod_hash}"
        current = [
            p for p in pods if (p["metadata"].get("labels") or {}).get(HASH_LABEL) == pod_hash
        ]
        old = [p for p in pods if p not in current]
        paused = bool(spec.get("paused"))

        if not paused:
            current.sort(
                key=lambda p: (_pod_ready(p), p["metadata"].get("creationTimestamp", "")),
                reverse=True,
            )
            while len(current) > desired:
                self._delete_pod(current.pop())
            while len(current) < desired:
                current.append(self._create_pod(deployment, rs_name, pod_hash))
        next_due: list[float] = []
        for index, pod in enumerate(current):
            current[index], due = self._kubelet_step(pod)
            if due is not None:
                next_due.append(due)
        ready_new = sum(1 for p in current if _pod_ready(p))
        if not paused and ready_new >= desired:
            for pod in old:
                self._delete_pod(pod)
            old = []
        all_pods = current + old
        ready = sum(1 for p in all_pods if _pod_ready(p))
        deadline_due = self._write_status(
            deployment, rs_name, pod_hash, desired, current, all_pods, ready
        )
        if deadline_due is not None:
            next_due.append(deadline_due)
        if not next_due:
            return None
        return max(0.0, min(next_due) - self._clock.now())

    def _owned_pods(self, namespace: str, name: str, deployment: Obj | None) -> list[Obj]:
        pods, _ = self._store.list("pods", namespace)
        selector = (((deployment or {}).get("spec") or {}).get("selector") or {}).get(
            "matchLabels"
        ) or {}
        owned = []
        for pod in pods:
            owners = pod["metadata"].get("ownerReferences") or []
            rs = next((o for o in owners if o.get("kind") == "ReplicaSet"), None)
            if rs is None or str(rs.get("name", "")).rsplit("-", 1)[0] != name:
                continue
            if deployment is not None and not _matches(
                selector, pod["metadata"].get("labels") or {}
            ):
                continue
            owned.append(pod)
        return owned

    def _create_pod(self, deployment: Obj, rs_name: str, pod_hash: str) -> Obj:
        namespace = key_of(deployment)[0]
        template = copy.deepcopy((deployment.get("spec") or {}).get("template") or {})
        meta = template.get("metadata") or {}
        labels = {**(meta.get("labels") or {}), HASH_LABEL: pod_hash}
        rs_uid = str(uuid.uuid5(uuid.UUID(deployment["metadata"]["uid"]), pod_hash))
        pod_spec = template.get("spec") or {}
        pod_spec.setdefault("restartPolicy", "Always")
        pod_spec["nodeName"] = NODE_NAME
        pod_meta: Obj = {
            "name": f"{rs_name}-{_random_suffix()}",
            "namespace": namespace,
            "labels": labels,
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": rs_name,
                    "uid": rs_uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        }
        if meta.get("annotations"):
            pod_meta["annotations"] = meta["annotations"]
        pod: Obj = {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": pod_spec}
        created = self._store.create("pods", namespace, pod)
        delay = self._start_delay
        if any(
            (split_image(str(c.get("image", "")))[1] or "").startswith("slow")
            for c in pod_spec.get("containers") or []
        ):
            delay *= 20
        with self._lock:
            self._due[created["metadata"]["uid"]] = self._clock.now() + delay
        return self._write_pod_status(created, _pending_status(created))

    def _delete_pod(self, pod: Obj) -> None:
        with self._lock:
            self._due.pop(pod["metadata"].get("uid", ""), None)
        try:
            self._store.delete("pods", pod["metadata"]["namespace"], pod["metadata"]["name"])
        except Exception as exc:
            if api_code(exc) != 404:
                raise

    def _kubelet_step(self, pod: Obj) -> tuple[Obj, float | None]:
        """Advances the pod when its start (or next crash) is due; returns it and its next due."""
        uid = pod["metadata"].get("uid", "")
        now = self._clock.now()
        with self._lock:
            due = self._due.get(uid)
        status = pod.get("status") or {}
        started = status.get("phase") not in (None, "Pending") or _waiting_reason(status) in (
            "ErrImagePull",
            "ImagePullBackOff",
        )
        if due is None and started:
            return pod, None
        if due is not None and due > now:
            return pod, due
        restarts = max(
            (int(c.get("restartCount", 0)) for c in status.get("containerStatuses") or []),
            default=0,
        )
        new_status, crashing = _started_status(pod, restarts + (1 if started else 0))
        next_due = None
        if crashing:
            next_due = now + _backoff(restarts)
        with self._lock:
            if next_due is None:
                self._due.pop(uid, None)
            else:
                self._due[uid] = next_due
        return self._write_pod_status(pod, new_status), next_due

    def _write_pod_status(self, pod: Obj, status: Obj) -> Obj:
        if pod.get("status") == status:
            return pod
        try:
            return self._store.replace_status(
                "pods", pod["metadata"]["namespace"], pod["metadata"]["name"], status
            )
        except Exception as exc:
            if api_code(exc) != 404:
                raise
            return {**pod, "status": status}

    def _write_status(
        self,
        deployment: Obj,
        rs_name: str,
        pod_hash: str,
        desired: int,
        current: list[Obj],
        all_pods: list[Obj],
        ready: int,
    ) -> float | None:
        """Writes the Deployment status; returns when the progress deadline would pass."""
        key = key_of(deployment)
        spec = deployment.get("spec") or {}
        old_status = deployment.get("status") or {}
        status: Obj = {k: copy.deepcopy(v) for k, v in old_status.items() if k == "conditions"}
        status["observedGeneration"] = generation(deployment)
        counts = {
            "replicas": len(all_pods),
            "updatedReplicas": len(current),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "unavailableReplicas": max(0, desired - ready) if all_pods or desired else 0,
        }
        status.update({k: v for k, v in counts.items() if v})
        gen = None
        available_ok = ready >= desired - _max_unavailable(spec, desired)
        _mark_deployment(
            status,
            "Available",
            "True" if available_ok else "False",
            "MinimumReplicasAvailable" if available_ok else "MinimumReplicasUnavailable",
            "Deployment has minimum availability."
            if available_ok
            else "Deployment does not have minimum availability.",
            gen,
        )
        probe = {**deployment, "status": status}
        state, _ = rollout_status(probe)
        now = self._clock.now()
        ready_new = sum(1 for p in current if _pod_ready(p))
        with self._lock:
            tracked = self._progress.get(key)
            if tracked is None or tracked[0] != pod_hash or tracked[1] != ready_new:
                tracked = (pod_hash, ready_new, now)
                self._progress[key] = tracked
        deadline = float(spec.get("progressDeadlineSeconds", 600))
        deadline_due = None
        if state == "Current":
            _mark_deployment(
                status,
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{rs_name}" has successfully progressed.',
                gen,
            )
        elif now - tracked[2] >= deadline:
            _mark_deployment(
                status,
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                f'ReplicaSet "{rs_name}" has timed out progressing.',
                gen,
            )
        else:
            _mark_deployment(
                status,
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                f'ReplicaSet "{rs_name}" is progressing.',
                gen,
            )
            deadline_due = tracked[2] + deadline
        if status != old_status:
            try:
                self._store.replace_status("deployments", key[0], key[1], status)
            except Exception as exc:
                if api_code(exc) != 404:
                    raise
        return deadline_due


def _mark_deployment(
    status: Obj, type_: str, value: str, reason: str, message: str, _: None
) -> None:
    """apps/v1 DeploymentCondition: lastUpdateTime moves on any change,
    lastTransitionTime on a status flip."""
    existing = cond.get(status, type_)
    if existing and (existing.get("status"), existing.get("reason"), existing.get("message")) == (
        value,
        reason,
        message,
    ):
        return
    now = now_rfc3339()
    condition = {
        "type": type_,
        "status": value,
        "reason": reason,
        "message": message,
        "lastUpdateTime": now,
        "lastTransitionTime": existing["lastTransitionTime"]
        if existing and existing.get("status") == value
        else now,
    }
    conditions = [c for c in status.get("conditions") or [] if c.get("type") != type_]
    conditions.append(condition)
    conditions.sort(key=lambda c: 0 if c.get("type") == "Available" else 1)
    status["conditions"] = conditions


# ---------------------------------------------------------------------- pod status


def _pod_ready(pod: Obj) -> bool:
    return cond.is_true(pod.get("status") or {}, "Ready")


def _waiting_reason(status: Obj) -> str | None:
    for container in status.get("containerStatuses") or []:
        waiting = (container.get("state") or {}).get("waiting")
        if waiting:
            return str(waiting.get("reason"))
    return None


def _pod_conditions(now: str, ready: bool, not_ready: list[str]) -> list[Obj]:
    message = f"containers with unready status: [{' '.join(not_ready)}]"
    conditions: list[Obj] = [
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
        {"type": "Initialized", "status": "True", "lastTransitionTime": now},
    ]
    for type_ in ("ContainersReady", "Ready"):
        condition: Obj = {
            "type": type_,
            "status": "True" if ready else "False",
            "lastTransitionTime": now,
        }
        if not ready:
            condition.update({"reason": "ContainersNotReady", "message": message})
        conditions.append(condition)
    return conditions


def _pending_status(pod: Obj) -> Obj:
    now = now_rfc3339()
    containers = (pod.get("spec") or {}).get("containers") or []
    return {
        "phase": "Pending",
        "hostIP": "10.0.0.1",
        "startTime": now,
        "qosClass": "Burstable",
        "conditions": _pod_conditions(now, False, [str(c.get("name")) for c in containers]),
        "containerStatuses": [
            {
                "name": c.get("name"),
                "image": c.get("image", ""),
                "imageID": "",
                "ready": False,
                "restartCount": 0,
                "started": False,
                "state": {"waiting": {"reason": "ContainerCreating"}},
            }
            for c in containers
        ],
    }


def _image_id(image: str) -> str:
    name, _, digest = split_image(image)
    return f"{name}@{digest or 'sha256:' + hashlib.sha256(image.encode()).hexdigest()}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _backoff(restarts: int) -> float:
    """The kubelet's restart back-off: 10s doubling per restart, at most 5m."""
    return float(min(CRASH_BACKOFF_START * 2 ** max(restarts, 0), CRASH_BACKOFF_MAX))


def _container_status(pod: Obj, container: Obj, restarts: int, now: str) -> Obj:
    """One containerStatuses entry after the kubelet tried to start `container`."""
    meta = pod["metadata"]
    image = str(container.get("image", ""))
    name = str(container.get("name"))
    entry: Obj = {"name": name, "image": image, "imageID": "", "restartCount": 0}
    fault = image_fault(image)
    if fault == "ImagePullBackOff":
        reason = {"reason": fault, "message": f'Back-off pulling image "{image}"'}
        entry.update({"ready": False, "started": False, "state": {"waiting": reason}})
    elif fault == "CrashLoopBackOff":
        message = (
            f"back-off {int(_backoff(restarts - 1))}s restarting failed container={name} "
            f"pod={meta['name']}_{meta['namespace']}({meta['uid']})"
        )
        terminated = {"exitCode": 1, "reason": "Error", "startedAt": now, "finishedAt": now}
        entry.update(
            {
                "imageID": _image_id(image),
                "ready": False,
                "started": False,
                "restartCount": restarts,
                "containerID": f"containerd://{_digest(meta['uid'] + name + str(restarts))}",
                "state": {"waiting": {"reason": fault, "message": message}},
                "lastState": {"terminated": terminated},
            }
        )
    else:
        entry.update(
            {
                "imageID": _image_id(image),
                "ready": True,
                "started": True,
                "containerID": f"containerd://{_digest(meta['uid'] + name)}",
                "state": {"running": {"startedAt": now}},
            }
        )
    return entry


def _started_status(pod: Obj, restarts: int) -> tuple[Obj, bool]:
    """The status once the kubelet tried to start the containers, and whether one is crashing."""
    now = now_rfc3339()
    old = pod.get("status") or {}
    containers = (pod.get("spec") or {}).get("containers") or []
    statuses = [_container_status(pod, c, restarts, now) for c in containers]
    not_ready = [str(s["name"]) for s in statuses if not s["ready"]]
    waiting = {str((s["state"].get("waiting") or {}).get("reason")) for s in statuses}
    pulling_failed = "ImagePullBackOff" in waiting
    status: Obj = {
        "phase": "Pending" if pulling_failed else "Running",
        "hostIP": "10.0.0.1",
        "startTime": old.get("startTime") or now,
        "qosClass": "Burstable",
        "conditions": _pod_conditions(now, not not_ready, not_ready),
        "containerStatuses": statuses,
    }
    if not pulling_failed:
        status["podIP"] = f"10.244.0.{int(_digest(pod['metadata']['uid']), 16) % 250 + 2}"
    # keep the transition times of unchanged conditions
    previous = {c.get("type"): c for c in old.get("conditions") or []}
    for condition in status["conditions"]:
        before = previous.get(condition["type"])
        if before and before.get("status") == condition["status"]:
            condition["lastTransitionTime"] = before.get("lastTransitionTime", now)
    return status, "CrashLoopBackOff" in waiting
