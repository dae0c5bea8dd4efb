"""The Flux simulator: source-controller, kustomize-controller and a deployment controller.

Wires the three simulated controllers to one in-process Store: its write notifications feed
their queues, and their worker threads write back through the same Store, so every change
shows on the HTTP API and its watches. One simulated clock (sandbox/flux/clock.py) runs every
interval, retry, timeout and simulated delay, in the order of their simulated times. Feature
gates are kustomize-controller's, with its defaults (only CancelHealthCheckOnNewRevision is
simulated). It must not serve HTTP or know about git hosting: repository URLs reach local
paths only through the resolver it is given.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType

from sandbox.flux.artifacts import ArtifactStorage
from sandbox.flux.clock import SimClock
from sandbox.flux.kustomize_controller import KustomizeController
from sandbox.flux.runtime import Obj, StoreLike
from sandbox.flux.source_controller import RepoResolver, SourceController
from sandbox.flux.workloads import DeploymentController

CANCEL_HEALTH_CHECK = "CancelHealthCheckOnNewRevision"
FEATURE_GATES = {CANCEL_HEALTH_CHECK: False}  # kustomize-controller v1.9's defaults


class FluxSimulator:
    """Start with start() (or `with`), end with stop(); every thread it started ends on stop()."""

    def __init__(
        self,
        store: StoreLike,
        repo_resolver: RepoResolver,
        *,
        time_scale: float = 1.0,
        pod_start_delay: float = 5.0,
        requeue_dependency: float = 30.0,
        artifact_dir: str | Path | None = None,
        feature_gates: Mapping[str, bool] | None = None,
        seed: int | None = None,
    ) -> None:
        unknown = sorted(set(feature_gates or {}) - set(FEATURE_GATES))
        if unknown:
            raise ValueError(f"unrecognized feature gate: {', '.join(unknown)}")
        self.feature_gates = {**FEATURE_GATES, **(feature_gates or {})}
        self.store = store
        self.clock = SimClock(time_scale)
        self.storage = ArtifactStorage(artifact_dir)
        rng = random.Random(seed)  # the interval jitter's
        self.source = SourceController(store, repo_resolver, self.storage, self.clock, rng=rng)
        self.kustomize = KustomizeController(
            store,
            self.storage,
            self.clock,
            requeue_dependency=requeue_dependency,
            cancel_health_check_on_new_revision=self.feature_gates[CANCEL_HEALTH_CHECK],
            rng=rng,
        )
        self.deployments = DeploymentController(store, self.clock, pod_start_delay)
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> FluxSimulator:
        if self._unsubscribe is not None:
            return self
        self._unsubscribe = self.store.subscribe(self._on_write)
        self.deployments.start()
        self.source.start()
        self.kustomize.start()
        return self

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.clock.release()  # a held clock must not keep a stopping controller waiting
        self.kustomize.stop()
        self.source.stop()
        self.deployments.stop()
        self.storage.close()

    def _on_write(self, event_type: str, plural: str, obj: Obj) -> None:
        if plural == "gitrepositories":
            self.source.on_event(event_type, obj)
            self.kustomize.on_source_event(event_type, obj)
        elif plural == "kustomizations":
            self.kustomize.on_event(event_type, obj)
        elif plural == "deployments":
            self.deployments.on_event(event_type, obj)
        elif plural == "pods":
            self.deployments.on_pod_event(event_type, obj)

    def __enter__(self) -> FluxSimulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
