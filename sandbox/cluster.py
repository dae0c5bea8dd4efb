"""Starts the emulated cluster on its own: Store, Kubernetes API server and Flux simulator.

The cluster is seeded like the example GitOps setup: namespaces flux-system, dev, staging and
prod, and the Flux manifests of examples/gitops/clusters/flux-system with their GitRepository
URLs pointed at one repository that the resolver maps to a local bare repository. Used by
tests, the sandbox, and `python -m sandbox.cluster` (prints the API URL, runs until SIGINT or
SIGTERM). It must not start Slack, GitHub or the bot.
"""

from __future__ import annotations

import argparse
import copy
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

import kubernetes.client

from sandbox.flux import kustomize
from sandbox.flux.simulator import FluxSimulator
from sandbox.gitseed import EXAMPLES_DIR, seed_repository
from sandbox.kube.client import api_client
from sandbox.kube.server import KubeApiServer
from sandbox.kube.store import Store

EXAMPLE_FLUX_DIR = EXAMPLES_DIR / "clusters" / "flux-system"
EXAMPLE_REPO_URL = "https://github.com/acme/myapp"
FLUX_NAMESPACE = "flux-system"
NAMESPACES: tuple[str, ...] = (FLUX_NAMESPACE, "dev", "staging", "prod")

RepoResolver = Callable[[str], str]
Customizer = Callable[[dict[str, Any]], None]


def normalize_url(url: str) -> str:
    """Compares git URLs loosely: scheme, trailing slash and `.git` do not matter."""
    text = url.strip().rstrip("/")
    text = text.split("://", 1)[-1]
    return text[:-4] if text.endswith(".git") else text


def single_repo_resolver(path: str | Path, url: str = EXAMPLE_REPO_URL) -> RepoResolver:
    """A resolver mapping `url` (loosely) to the bare repository at `path`, refusing others."""
    target = str(Path(path).resolve())
    wanted = normalize_url(url)

    def resolve(requested: str) -> str:
        if normalize_url(requested) != wanted:
            raise LookupError(f"no local repository for {requested}")
        return target

    return resolve


def flux_manifests(
    repo_url: str, flux_dir: str | Path = EXAMPLE_FLUX_DIR, customize: Customizer | None = None,
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> list[dict[str, Any]]:
    """The example Flux objects (and namespaces) with every GitRepository URL set to repo_url;
    `keep` chooses which (a cluster of its own for prod keeps only prod's)."""
    objects = kustomize.objects(kustomize.build(Path(flux_dir)))
    if keep is not None:
        objects = [o for o in objects if o.get("kind") == "Namespace" or keep(o)]
    for obj in objects:
        if obj.get("kind") == "GitRepository":
            obj.setdefault("spec", {})["url"] = repo_url
        if customize is not None:
            customize(obj)
    return objects


class Cluster:
    """A running emulated cluster; stop() (or leaving `with`) ends every thread it started."""

    def __init__(
        self, store: Store, server: KubeApiServer, simulator: FluxSimulator, repo_url: str
    ) -> None:
        self.store = store
        self.server = server
        self.simulator = simulator
        self.repo_url = repo_url
        self._stopped = False

    @property
    def url(self) -> str:
        return self.server.url

    def api_client(self) -> kubernetes.client.ApiClient:
        return api_client(self.url)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.simulator.stop()
        self.server.stop()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_cluster(
    repo: str | Path | RepoResolver,
    *,
    time_scale: float = 1.0,
    repo_url: str = EXAMPLE_REPO_URL,
    flux_dir: str | Path = EXAMPLE_FLUX_DIR,
    customize: Customizer | None = None,
    pod_start_delay: float = 5.0,
    requeue_dependency: float = 30.0,
    feature_gates: dict[str, bool] | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> Cluster:
    """Starts Store, API server and simulator, seeded from the example Flux manifests.

    `repo` is a bare repository path (served for `repo_url`) or a resolver from any
    GitRepository URL to a local path. `repo_url` is written into every GitRepository.
    `customize` may change each seeded object before it is created (intervals, suspend...);
    `keep` chooses which of the Flux objects this cluster runs (default: all of them).
    `feature_gates` are kustomize-controller's (CancelHealthCheckOnNewRevision, default off).
    """
    resolver = repo if callable(repo) else single_repo_resolver(repo, repo_url)
    store = Store()
    for namespace in NAMESPACES:
        store.create(
            "namespaces",
            None,
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": namespace},
            },
        )
    plurals = {
        "Namespace": "namespaces",
        "GitRepository": "gitrepositories",
        "Kustomization": "kustomizations",
    }
    for obj in flux_manifests(repo_url, flux_dir, customize, keep):
        plural = plurals.get(str(obj.get("kind")))
        if plural is None:
            raise ValueError(f"unexpected object in the Flux manifests: {obj.get('kind')}")
        if plural == "namespaces":
            if any(
                ns["metadata"]["name"] == obj["metadata"]["name"]
                for ns in store.list("namespaces")[0]
            ):
                continue
            store.create(plural, None, copy.deepcopy(obj))
        else:
            store.create(plural, obj["metadata"].get("namespace", FLUX_NAMESPACE), obj)
    simulator = FluxSimulator(
        store,
        resolver,
        time_scale=time_scale,
        pod_start_delay=pod_start_delay,
        requeue_dependency=requeue_dependency,
        feature_gates=feature_gates,
    )
    server = KubeApiServer(store, host=host, port=port).start()
    try:
        simulator.start()
    except BaseException:
        server.stop()
        raise
    return Cluster(store, server, simulator, repo_url)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.cluster",
        description="Run the emulated Kubernetes API with the Flux simulator until interrupted.",
    )
    parser.add_argument(
        "--repo",
        help="bare git repository to deploy from "
        "(default: a fresh one seeded with the example content)",
    )
    parser.add_argument(
        "--repo-url",
        default=EXAMPLE_REPO_URL,
        help="URL written into the GitRepositories (default: %(default)s)",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="60 makes a 1m interval pass in 1s (default: %(default)s)",
    )
    parser.add_argument("--port", type=int, default=0, help="API port (default: any free port)")
    args = parser.parse_args(argv)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    with tempfile.TemporaryDirectory(prefix="promotebot-cluster-") as tmp:
        repo = Path(args.repo) if args.repo else seed_repository(Path(tmp) / "myapp.git").path
        with start_cluster(
            repo, time_scale=args.time_scale, repo_url=args.repo_url, port=args.port
        ) as cluster:
            sys.stdout.write(
                f"Kubernetes API: {cluster.url}\n"
                f"git repository: {repo}\n"
                f"try: kubectl --server {cluster.url} get kustomizations -A\n"
            )
            sys.stdout.flush()
            while not stop.wait(0.2):
                pass
    for sig, handler in previous.items():
        signal.signal(sig, handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
