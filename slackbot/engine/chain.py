"""The root of a dependsOn chain: when an env waits in DependencyNotReady, the first env of its
chain that is not Ready and waits on nothing itself, with Flux's reason and words for it.

With staging dependsOn dev and prod dependsOn staging, a broken dev leaves all three in
DependencyNotReady; only dev's own status says why (BuildFailed, HealthCheckFailed). Every
refusal and every card that waits on the chain names that root, so on-call is sent to the env
that can be fixed. Reads the cluster only; decides nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from slackbot.pipeline import App, Environment, FluxRef
from slackbot.ports import Cluster, KustomizationStatus

DEPENDENCY_NOT_READY = "DependencyNotReady"
FLUX_FAILURES = frozenset(
    {"BuildFailed", "HealthCheckFailed", "ReconciliationFailed", "ArtifactFailed", "PruneFailed"}
)


def flux_failed(status: KustomizationStatus) -> bool:
    """Flux says its last attempt failed (of whichever revision it attempted)."""
    return status.ready == "False" and status.reason in FLUX_FAILURES


@dataclass(frozen=True)
class Root:
    """The env (or, outside the app, the Kustomization) a chain waits on, and why."""

    env: str
    kustomization: FluxRef
    reason: str
    message: str
    in_app: bool = True  # an env of the app (its rollback can be offered)


def env_of(app: App, ref: FluxRef) -> Environment | None:
    return next((e for e in app.environments if e.kustomization == ref), None)


def root_of(app: App, cluster: Cluster, refs: tuple[FluxRef, ...]) -> Root | None:
    """The first Kustomization among `refs` (and their dependencies, depth first) that is not
    Ready and does not itself wait on another; None when the whole chain is Ready."""
    seen: set[FluxRef] = set()

    def walk(todo: tuple[FluxRef, ...]) -> Root | None:
        for ref in todo:
            if ref in seen:
                continue
            seen.add(ref)
            status = cluster.kustomization(ref)
            if status.settled:
                continue
            deeper = walk(status.depends_on)
            if deeper is not None:
                return deeper
            env = env_of(app, ref)
            return Root(env.name if env else ref.name, ref, status.reason or "Unknown",
                        status.message, env is not None)
        return None

    return walk(refs)


def root_below(app: App, cluster: Cluster, env: Environment) -> Root | None:
    """What the env's own dependsOn chain waits on (None: the chain is Ready)."""
    return root_of(app, cluster, cluster.kustomization(env.kustomization).depends_on)


def waiting_root(app: App, cluster: Cluster, status: KustomizationStatus) -> Root | None:
    """For an env that is not Ready because it waits on its chain: the chain's root."""
    if status.reason != DEPENDENCY_NOT_READY:
        return None
    return root_of(app, cluster, status.depends_on)
