"""Helpers of the Flux simulator tests: the cluster seen through the real kubernetes client,
plain-git pushes, content edits and bounded waits."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kubernetes.client

from sandbox.cluster import Cluster
from sandbox.gitseed import SeededRepo, run_git
from tests.waiting import wait_for

__all__ = ["wait_for"]  # the Flux tests import it from here

# 100x: dev reconciles every 0.6 s, the 3m timeout is 1.8 s, a pod starts in 0.05 s.
TIME_SCALE = 100.0
WAIT = 20.0  # bound of every wait, in real seconds; none of them should come near it

FLUX = "flux-system"
KS = ("kustomize.toolkit.fluxcd.io", "v1", "kustomizations")
GITREPO = ("source.toolkit.fluxcd.io", "v1", "gitrepositories")
EXPECTED = {  # the workflow document's per-env settings
    "dev": (1, "64Mi", "100m"),
    "staging": (2, "128Mi", "200m"),
    "prod": (3, "256Mi", "500m"),
}




@dataclass
class Env:
    """A running cluster seen through the real kubernetes client, and the repository behind it."""

    cluster: Cluster
    repo: SeededRepo
    workdir: Path
    api: kubernetes.client.ApiClient = field(init=False)

    def __post_init__(self) -> None:
        self.api = self.cluster.api_client()
        self.custom = kubernetes.client.CustomObjectsApi(self.api)
        self.apps = kubernetes.client.AppsV1Api(self.api)
        self.core = kubernetes.client.CoreV1Api(self.api)

    def ks(self, env: str) -> dict[str, Any]:
        return self.custom.get_namespaced_custom_object(  # type: ignore[no-any-return]
            KS[0], KS[1], FLUX, KS[2], f"myapp-{env}"
        )

    def gitrepo(self, env: str) -> dict[str, Any]:
        return self.custom.get_namespaced_custom_object(  # type: ignore[no-any-return]
            GITREPO[0], GITREPO[1], FLUX, GITREPO[2], f"myapp-{env}"
        )

    def annotate(self, resource: tuple[str, str, str], name: str, token: str) -> None:
        """What `flux reconcile` does: merge-patch the requestedAt annotation."""
        self.custom.patch_namespaced_custom_object(
            resource[0],
            resource[1],
            FLUX,
            resource[2],
            name,
            {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": token}}},
        )

    def push(self, branch: str, edit: Callable[[Path], None], message: str) -> str:
        """Clones the bare repository with plain git, edits, commits and pushes; returns the sha."""
        work = self.workdir / f"clone-{uuid.uuid4().hex[:8]}"
        run_git("clone", "--quiet", "--branch", branch, str(self.repo.path), str(work))
        edit(work)
        run_git("add", "--all", cwd=work)
        run_git("-c", "commit.gpgsign=false", "commit", "--quiet", "-m", message, cwd=work)
        run_git("push", "--quiet", "origin", branch, cwd=work)
        return run_git("rev-parse", "HEAD", cwd=work)


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any] | None:
    for item in (obj.get("status") or {}).get("conditions") or []:
        if item.get("type") == type_:
            return item  # type: ignore[no-any-return]
    return None


def is_ready_at(obj: dict[str, Any], revision: str) -> bool:
    ready = condition(obj, "Ready")
    status = obj.get("status") or {}
    return bool(
        ready
        and ready["status"] == "True"
        and status.get("lastAppliedRevision") == revision
        and status.get("observedGeneration") == obj["metadata"]["generation"]
    )


def set_image(image: str) -> Callable[[Path], None]:
    def edit(work: Path) -> None:
        path = work / "apps/myapp/base/deployment.yaml"
        text, count = re.subn(r"image: \S+", f"image: {image}", path.read_text())
        assert count == 1
        path.write_text(text)

    return edit


def break_build(work: Path) -> None:
    path = work / "apps/myapp/overlays/dev/kustomization.yaml"
    path.write_text(
        path.read_text().replace("  - ../../base\n", "  - ../../base\n  - missing.yaml\n")
    )
