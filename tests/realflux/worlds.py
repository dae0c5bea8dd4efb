"""One Flux behind the same few verbs, real or simulated, so that a conformance scenario is
written once and run on both: the real-Flux harness (etcd, kube-apiserver, source-controller
and kustomize-controller) or the simulator (sandbox/cluster.py: sandbox/kube's API emulator
with sandbox/flux behind it). Both are reached through the real kubernetes client; only where
developers push and what a GitRepository's URL says differ.

It acts as a developer (git pushes) and as the `flux` CLI would (requestedAt, spec patches);
it asserts nothing.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubernetes.client
from kubernetes.client.exceptions import ApiException

from sandbox.flux.clock import SimClock
from sandbox.gitseed import branch_head, commit_and_push
from tests.realflux.fluxobjects import FLUX_DIR, GITREPO, KS, example_manifests
from tests.waiting import wait_for

FLUX_NAMESPACE = "flux-system"
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
Kind = tuple[str, str, str]
Obj = dict[str, Any]


@dataclass
class FluxWorld:
    """A running Flux, real or simulated; `clock` is the simulator's (None on real Flux)."""

    name: str  # "real" or "simulator"
    api: kubernetes.client.ApiClient
    clone_url: str  # where a developer pushes
    source_url: str  # what a GitRepository's spec.url says here
    repo_path: Path
    seed: str
    workdir: Path
    settle: float  # bound of a wait for Flux, real seconds (none should come near it)
    clock: SimClock | None = None

    @property
    def custom(self) -> kubernetes.client.CustomObjectsApi:
        return kubernetes.client.CustomObjectsApi(self.api)

    # -- reading -------------------------------------------------------------------------

    def get(self, kind: Kind, name: str) -> Obj:
        group, version, plural = kind
        found: Obj = self.custom.get_namespaced_custom_object(
            group, version, FLUX_NAMESPACE, plural, name)
        return found

    def find(self, kind: Kind, name: str) -> Obj | None:
        try:
            return self.get(kind, name)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def head(self, branch: str) -> str:
        sha = branch_head(self.repo_path, branch)
        assert sha is not None, f"no branch {branch}"
        return sha

    def example(self, kind: Kind, name: str) -> Obj:
        """The example's Flux object of that name, its GitRepository URL pointing here."""
        wanted = "Kustomization" if kind == KS else "GitRepository"
        for doc in example_manifests(self.source_url, FLUX_DIR):
            if doc["kind"] == wanted and doc["metadata"]["name"] == name:
                return copy.deepcopy(doc)
        raise KeyError(f"no example {wanted} {name}")

    # -- acting --------------------------------------------------------------------------

    def push(self, branch: str, files: dict[str, str], message: str) -> str:
        """A developer's commit on `branch`, pushed with plain git; its sha."""
        return commit_and_push(self.clone_url, branch, files, message, self.workdir / "clones")

    def annotate(self, kind: Kind, name: str) -> str:
        """requestedAt, as `flux reconcile` sets it (a merge patch); returns the token."""
        token = datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds")
        group, version, plural = kind
        self.custom.patch_namespaced_custom_object(
            group, version, FLUX_NAMESPACE, plural, name,
            {"metadata": {"annotations": {REQUESTED_AT: token}}})
        return token

    def patch_spec(self, kind: Kind, name: str, spec: Obj) -> int:
        """Merges `spec` into the object's spec; returns its generation after."""
        group, version, plural = kind
        done: Obj = self.custom.patch_namespaced_custom_object(
            group, version, FLUX_NAMESPACE, plural, name, {"spec": spec})
        return int(done["metadata"]["generation"])

    def create(self, kind: Kind, doc: Obj) -> Obj:
        group, version, plural = kind
        created: Obj = self.custom.create_namespaced_custom_object(
            group, version, FLUX_NAMESPACE, plural, doc)
        return created

    def delete(self, kind: Kind, name: str) -> None:
        """Deletes, and waits until the object is gone (its finalizer handled)."""
        group, version, plural = kind
        try:
            self.custom.delete_namespaced_custom_object(group, version, FLUX_NAMESPACE, plural,
                                                        name)
        except ApiException as exc:
            if exc.status != 404:
                raise
        self.wait(lambda: self.find(kind, name) is None, f"{plural}/{name} to be gone")

    def wait(self, check: Callable[[], Any], what: str) -> Any:
        return wait_for(check, f"{what} ({self.name} Flux)", timeout=self.settle)

    # -- waiting for Flux ----------------------------------------------------------------

    def ready_at(self, name: str, revision: str | None = None) -> Obj | None:
        """The Kustomization when Ready=True at its generation (and at `revision`)."""
        obj = self.get(KS, name)
        status = obj.get("status") or {}
        ready = condition(obj, "Ready")
        settled = (ready.get("status") == "True"
                   and status.get("observedGeneration") == obj["metadata"]["generation"]
                   and (revision is None or status.get("lastAppliedRevision") == revision))
        return obj if settled else None

    def source_ready(self, name: str, revision: str | None = None) -> Obj | None:
        obj = self.get(GITREPO, name)
        status = obj.get("status") or {}
        ready = condition(obj, "Ready")
        settled = (ready.get("status") == "True"
                   and status.get("observedGeneration") == obj["metadata"]["generation"]
                   and (revision is None
                        or (status.get("artifact") or {}).get("revision") == revision))
        return obj if settled else None

    def reason(self, kind: Kind, name: str, reason: str) -> Obj | None:
        obj = self.get(kind, name)
        return obj if condition(obj, "Ready").get("reason") == reason else None


def condition(obj: Obj, type_: str) -> Obj:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == type_:
            return dict(cond)
    return {}
