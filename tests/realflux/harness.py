"""The whole real-Flux harness, started in order and stopped in reverse, even half-started.

A seeded bare repository behind the GitHub emulator (git smart HTTP), etcd and kube-apiserver,
the Flux CRDs, the rollout stand-in, source-controller and kustomize-controller, then the
example Flux objects env by env (dev, staging, prod: each created once the one it dependsOn is
Ready, so no start-up waits out the 30 s dependency requeue). Everything binds 127.0.0.1.
Helpers act as a developer and as `flux reconcile` would; assertions belong to the tests.
"""

from __future__ import annotations

import datetime
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kubernetes.client

from sandbox.github.server import GitHubEmulator
from sandbox.gitseed import SeededRepo, branch_head, commit_and_push, seed_repository
from sandbox.world import OWNER, REPO, github_users
from tests.realflux import build
from tests.realflux.apiserver import ControlPlane, start_control_plane
from tests.realflux.controllers import (
    FLUX_NAMESPACE,
    start_kustomize_controller,
    start_source_controller,
)
from tests.realflux.fluxobjects import (
    GITREPO,
    KS,
    create_flux_object,
    ensure_namespace,
    example_manifests,
    get,
    install_crds,
    ready,
)
from tests.realflux.processes import Process
from tests.realflux.rollouts import RolloutStandIn
from tests.waiting import wait_for

ENVS = ("dev", "staging", "prod")
SETTLE = 240.0  # seconds for a fresh env to be Ready (clone, build, apply, health check)
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
Obj = dict[str, Any]


@dataclass
class Harness:
    """A running harness; stop() ends every process and thread it started."""

    workdir: Path
    repo: SeededRepo | None = None
    github: GitHubEmulator | None = None
    plane: ControlPlane | None = None
    rollouts: RolloutStandIn | None = None
    controllers: list[Process] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    _admin: kubernetes.client.ApiClient | None = None

    # -- reaching it -------------------------------------------------------------------

    def admin(self) -> kubernetes.client.ApiClient:
        """The harness's own client (system:masters); one, reused."""
        assert self.plane is not None
        if self._admin is None:
            self._admin = self.plane.client()
        return self._admin

    @property
    def clone_url(self) -> str:
        assert self.github is not None
        return self.github.clone_url

    def kustomization(self, env: str) -> Obj:
        return get(self.admin(), KS, FLUX_NAMESPACE, f"myapp-{env}")

    def git_repository(self, env: str) -> Obj:
        return get(self.admin(), GITREPO, FLUX_NAMESPACE, f"myapp-{env}")

    def deployment(self, env: str, name: str = "myapp") -> Obj:
        live = kubernetes.client.AppsV1Api(self.admin()).read_namespaced_deployment(name, env)
        found: Obj = self.admin().sanitize_for_serialization(live)
        return found

    def head(self, env: str) -> str:
        assert self.repo is not None
        sha = branch_head(self.repo.path, env)
        assert sha is not None, f"no branch {env}"
        return sha

    # -- acting ------------------------------------------------------------------------

    def push(self, env: str, files: dict[str, str], message: str) -> str:
        """A developer's commit on the env's branch, pushed with plain git; returns its sha."""
        return commit_and_push(self.clone_url, env, files, message, self.workdir / "clones")

    def annotate(self, kind: tuple[str, str, str], env: str) -> str:
        """Sets requestedAt as `flux reconcile` does (a merge patch); returns the token."""
        token = datetime.datetime.now(datetime.UTC).isoformat(timespec="microseconds")
        group, version, plural = kind
        kubernetes.client.CustomObjectsApi(self.admin()).patch_namespaced_custom_object(
            group, version, FLUX_NAMESPACE, plural, f"myapp-{env}",
            {"metadata": {"annotations": {REQUESTED_AT: token}}})
        return token

    def patch_kustomization(self, env: str, spec: Obj) -> int:
        """Merges `spec` into the Kustomization's spec; returns the new generation."""
        group, version, plural = KS
        done: Obj = kubernetes.client.CustomObjectsApi(self.admin()).patch_namespaced_custom_object(
            group, version, FLUX_NAMESPACE, plural, f"myapp-{env}", {"spec": spec})
        return int(done["metadata"]["generation"])

    def wait_applied(self, env: str, sha: str, timeout: float = SETTLE) -> Obj:
        """Until the env's Kustomization is Ready=True with `sha` applied at its generation."""
        wanted = f"{env}@sha1:{sha}"

        def applied() -> Obj | None:
            obj = self.kustomization(env)
            status = obj.get("status") or {}
            settled = (ready(obj).get("status") == "True"
                       and status.get("lastAppliedRevision") == wanted
                       and status.get("observedGeneration") == obj["metadata"]["generation"])
            return obj if settled else None

        found: Obj = wait_for(applied, f"{env} Ready at {wanted}", timeout=timeout)
        return found

    def wait_until(self, check: Callable[[], Any], what: str, timeout: float = SETTLE) -> Any:
        return wait_for(check, what, timeout=timeout)

    # -- stopping ----------------------------------------------------------------------

    def stop(self) -> None:
        for process in reversed(self.controllers):
            process.stop()
        if self.rollouts is not None:
            self.rollouts.stop()
        if self.plane is not None:
            self.plane.stop()
        if self.github is not None:
            self.github.stop()
        for bulky in ("etcd", "artifacts", "clones"):
            shutil.rmtree(self.workdir / bulky, ignore_errors=True)


def _timed(harness: Harness, step: str, started: float) -> float:
    now = time.monotonic()
    harness.timings[step] = now - started
    return now


def start_harness(workdir: Path) -> Harness:
    """Starts everything; on any failure stops what it started. The binaries must be built
    (a cold build takes far longer than a test may: ./scripts/test builds them first)."""
    absent = build.missing()
    if absent:
        raise RuntimeError(f"not built yet: {', '.join(absent)}; run `python3 "
                           f"tests/realflux/build.py` (./scripts/test does) and try again")
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    harness = Harness(workdir)
    try:
        _start(harness)
    except BaseException:
        harness.stop()
        raise
    return harness


def _start(harness: Harness) -> None:
    started = time.monotonic()
    mark = started
    harness.repo = seed_repository(harness.workdir / "myapp.git")
    # the sandbox's people and bot token: the real bot's end-to-end tests act through it
    harness.github = GitHubEmulator(harness.repo.path, OWNER, REPO, github_users()).start()
    harness.plane = start_control_plane(harness.workdir)
    mark = _timed(harness, "etcd + kube-apiserver ready", mark)
    api = harness.admin()
    install_crds(api)
    manifests = example_manifests(harness.clone_url)
    for doc in manifests:
        if doc["kind"] == "Namespace":
            ensure_namespace(api, doc["metadata"]["name"])
    ensure_namespace(api, FLUX_NAMESPACE)
    mark = _timed(harness, "CRDs and namespaces", mark)
    harness.rollouts = RolloutStandIn(harness.admin()).start()
    harness.controllers.append(start_source_controller(harness.plane, harness.workdir))
    harness.controllers.append(start_kustomize_controller(harness.plane, harness.workdir))
    mark = _timed(harness, "controllers ready", mark)
    for env in ENVS:
        for doc in manifests:
            if doc["kind"] != "Namespace" and doc["metadata"]["name"] == f"myapp-{env}":
                create_flux_object(api, doc)
        harness.wait_applied(env, harness.repo.sha)
    mark = _timed(harness, "every env Ready at the seed", mark)
    harness.timings["total"] = mark - started
