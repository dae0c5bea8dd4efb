"""The Cluster port over several clusters: each call goes to the cluster its env names (a Flux
object's ref carries the pipeline's name of its cluster; a rollout is asked with the env's).

None is the bot's own cluster (KUBE_API_URL, or its in-cluster config). The engine sees one
Cluster; which API answers is decided here, by name, and nothing else.
"""

from __future__ import annotations

from slackbot.pipeline import FluxRef
from slackbot.ports import Cluster, KustomizationStatus, Rollout


class Clusters:
    def __init__(self, clusters: dict[str | None, Cluster]):
        self._clusters = dict(clusters)

    def of(self, name: str | None) -> Cluster:
        try:
            return self._clusters[name]
        except KeyError:
            raise KeyError(f"no cluster named {name!r} is configured") from None

    @property
    def names(self) -> tuple[str | None, ...]:
        return tuple(self._clusters)

    def kustomization(self, ref: FluxRef) -> KustomizationStatus:
        return self.of(ref.cluster).kustomization(ref)

    def source_revision(self, ref: FluxRef) -> str | None:
        return self.of(ref.cluster).source_revision(ref)

    def request_source_reconcile(self, source: FluxRef, token: str) -> None:
        self.of(source.cluster).request_source_reconcile(source, token)

    def request_kustomization_reconcile(self, kustomization: FluxRef, token: str) -> None:
        self.of(kustomization.cluster).request_kustomization_reconcile(kustomization, token)

    def rollout(self, namespace: str, deployment: str, cluster: str | None = None) -> Rollout:
        return self.of(cluster).rollout(namespace, deployment, cluster)
