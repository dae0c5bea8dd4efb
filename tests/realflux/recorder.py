"""Records what the bot reads of one Flux object, as a sequence, from any Kubernetes API.

Each status the API server sends (through a watch with the real kubernetes client) becomes
an observation, consecutive repeats collapsed: for a Kustomization an Observation (Ready
status, reason, message prefix, lastAppliedRevision, lastAttemptedRevision,
observedGeneration), for a GitRepository a SourceObservation (Ready status, reason, message
prefix, artifact revision, observedGeneration, the condition types in order). Revisions are
written with labels ("dev@sha1:<fix>") so the same scenario run against real Flux and against
the simulator (sandbox/kube + sandbox/flux, any URL) gives comparable sequences. It asserts
nothing: tests decide what a sequence must be.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import kubernetes.client
from kubernetes import watch as k8s_watch

from tests.waiting import wait_for

KS = ("kustomize.toolkit.fluxcd.io", "v1", "kustomizations")
GITREPO = ("source.toolkit.fluxcd.io", "v1", "gitrepositories")
SHA = re.compile(r"\b[0-9a-f]{40}\b")
REVISION = re.compile(r"[\w./-]+@sha1:<[\w-]+>")
DURATION = re.compile(r"\b\d+(\.\d+)?(ns|us|µs|ms|s|m|h)(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))*\b")


@dataclass(frozen=True)
class Observation:
    """One distinct state of a Kustomization as the bot sees it."""

    ready: str
    reason: str
    message: str  # the prefix before the first ": ", durations and shas masked
    last_applied: str | None
    last_attempted: str | None
    observed_generation: int


@dataclass(frozen=True)
class SourceObservation:
    """One distinct state of a GitRepository as the bot and the Kustomization see it."""

    ready: str
    reason: str
    message: str  # as Observation.message
    artifact: str | None  # status.artifact.revision, labelled
    observed_generation: int
    conditions: tuple[str, ...]  # the condition types, in the order the status lists them


def message_prefix(message: str, labels: dict[str, str]) -> str:
    """The stable head of a Ready message: what precedes the first ': ' that is not followed
    by a revision (so 'kustomize build failed: <kustomize's error>' gives 'kustomize build
    failed', 'Applied revision: dev@sha1:<fix>' stays whole), durations as <duration> and
    known shas by their label."""
    text = SHA.sub(lambda m: f"<{labels.get(m.group(0), 'sha')}>", message)
    parts = DURATION.sub("<duration>", text).split(": ")
    head = parts[0]
    for part in parts[1:]:
        if not REVISION.fullmatch(part):
            break
        head += f": {part}"
    return head


def labelled(revision: str | None, labels: dict[str, str]) -> str | None:
    if revision is None:
        return None
    return SHA.sub(lambda m: f"<{labels.get(m.group(0), 'sha')}>", revision)


def _ready(status: dict[str, Any]) -> dict[str, Any]:
    return next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {})


def observe_source(obj: dict[str, Any], labels: dict[str, str]) -> SourceObservation:
    status = obj.get("status") or {}
    ready = _ready(status)
    return SourceObservation(
        ready=str(ready.get("status", "")), reason=str(ready.get("reason", "")),
        message=message_prefix(str(ready.get("message", "")), labels),
        artifact=labelled((status.get("artifact") or {}).get("revision"), labels),
        observed_generation=int(status.get("observedGeneration", -1)),
        conditions=tuple(str(c.get("type")) for c in status.get("conditions") or []))


def observe(obj: dict[str, Any], labels: dict[str, str]) -> Observation:
    status = obj.get("status") or {}
    ready = _ready(status)
    return Observation(
        ready=str(ready.get("status", "")), reason=str(ready.get("reason", "")),
        message=message_prefix(str(ready.get("message", "")), labels),
        last_applied=labelled(status.get("lastAppliedRevision"), labels),
        last_attempted=labelled(status.get("lastAttemptedRevision"), labels),
        observed_generation=int(status.get("observedGeneration", -1)))


class Recorder:
    """Watches one Flux object from start() to stop(); `observations` is the sequence.

    `kind` is KS (Observations) or GITREPO (SourceObservations); `since`, an object as a
    write returned it (a create), starts the sequence there and watches from its
    resourceVersion, so not even the first status a controller writes can be missed.
    After deleting the object, wait on `until_gone`: the controller's last writes (its
    deletion reconcile's conditions) reach the watch after the API server already answers
    404, and a recording stopped in between would end early by chance."""

    def __init__(self, api: kubernetes.client.ApiClient, namespace: str, name: str,
                 labels: dict[str, str] | None = None, kind: tuple[str, str, str] = KS,
                 since: dict[str, Any] | None = None) -> None:
        self._custom = kubernetes.client.CustomObjectsApi(api)
        self.namespace, self.name = namespace, name
        self.kind = kind
        self.labels = dict(labels or {})
        self._observe: Callable[[dict[str, Any], dict[str, str]], Any] = (
            observe_source if kind == GITREPO else observe)
        self._since = since
        self.observations: list[Any] = []
        self.raw: list[dict[str, Any]] = []  # every status seen, for a failure's diagnosis
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._started = threading.Event()
        self._gone = threading.Event()  # the watch delivered the object's DELETED event
        self._watch: k8s_watch.Watch | None = None
        self._thread = threading.Thread(target=self._run, name=f"recorder-{name}", daemon=True)

    def label(self, sha: str, label: str) -> None:
        """Names a commit for the sequence; call it before the commit can appear."""
        self.labels[sha] = label

    def start(self) -> Recorder:
        self._thread.start()
        self._started.wait(30)
        return self

    def stop(self) -> list[Any]:
        self._stop.set()
        if self._watch is not None:
            self._watch.stop()  # type: ignore[no-untyped-call]
        self._thread.join(timeout=40)
        return self.sequence()

    def sequence(self) -> list[Any]:
        with self._lock:
            return list(self.observations)

    def until(self, check: Callable[[list[Any]], bool], what: str,
              timeout: float = 60.0) -> list[Any]:
        """The sequence once it passes `check`: the watch can trail a GET by an event, so a
        test reads the sequence only after this."""
        def seen() -> list[Any] | None:
            sequence = self.sequence()
            return sequence if sequence and check(sequence) else None
        found: list[Any] = wait_for(seen, f"the recorder to see {what}", timeout=timeout)
        return found

    def until_gone(self, what: str, timeout: float = 60.0) -> list[Any]:
        """The sequence once the watch has delivered the object's deletion, so every write
        before it is in the sequence."""
        wait_for(lambda: self._gone.is_set(), f"the recorder to see {what}", timeout=timeout)
        return self.sequence()

    def latest(self) -> dict[str, Any]:
        with self._lock:
            return self.raw[-1] if self.raw else {}

    def _record(self, obj: dict[str, Any]) -> None:
        seen = self._observe(obj, self.labels)
        with self._lock:
            self.raw.append(obj)
            if not self.observations or self.observations[-1] != seen:
                self.observations.append(seen)

    def _run(self) -> None:
        group, version, plural = self.kind
        version_seen: str | None = None
        if self._since is not None:
            version_seen = self._since["metadata"]["resourceVersion"]
            self._record(self._since)
            self._started.set()
        while not self._stop.is_set():
            try:
                if version_seen is None:
                    obj = self._custom.get_namespaced_custom_object(
                        group, version, self.namespace, plural, self.name)
                    version_seen = obj["metadata"]["resourceVersion"]
                    self._record(obj)
                    self._started.set()
                self._watch = k8s_watch.Watch()  # type: ignore[no-untyped-call]
                for event in self._watch.stream(  # type: ignore[no-untyped-call]
                        self._custom.list_namespaced_custom_object, group, version,
                        self.namespace, plural, field_selector=f"metadata.name={self.name}",
                        resource_version=version_seen, timeout_seconds=30):
                    obj = event["object"]
                    version_seen = obj["metadata"]["resourceVersion"]
                    if event["type"] in ("ADDED", "MODIFIED"):
                        self._record(obj)
                    elif event["type"] == "DELETED":
                        self._gone.set()
            except Exception:
                if self._stop.is_set():
                    return
                version_seen = None  # list again: a gone resourceVersion or a broken stream
                self._stop.wait(0.2)

    def write(self, path: Path) -> None:
        """The sequence as JSON (one object per observation), for comparing runs."""
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = [asdict(o) for o in self.sequence()]
        path.write_text(json.dumps({self.kind[2]: f"{self.namespace}/{self.name}",
                                    "observations": rows}, indent=2) + "\n")
