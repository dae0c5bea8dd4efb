"""Figures for the emulated Flux's builds with the real kustomize: how long a cluster takes
from start to all three environments Ready, and what the kubectl runs cost once it is steady
(Flux at time scale 100, so dev reconciles every 0.6 s). A build's outcome is kept by its files
and spec, so steady reconciles, and a second cluster over the same content, start no kubectl.

Run: .venv/bin/python -m benchmarks.bench_flux_build   (prints figures; asserts nothing)
"""

from __future__ import annotations

import resource
import statistics
import tempfile
import time
from pathlib import Path

from sandbox.cluster import start_cluster
from sandbox.flux import kustomize
from sandbox.gitseed import ENVIRONMENTS, seed_repository

STEADY_SECONDS = 10.0


def _ready(cluster, sha: str) -> bool:  # type: ignore[no-untyped-def]
    for env in ENVIRONMENTS:
        status = cluster.store.get("kustomizations", "flux-system", f"myapp-{env}").get("status")
        if (status or {}).get("lastAppliedRevision") != f"{env}@sha1:{sha}":
            return False
    return True


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    builds = 0
    real_run = kustomize._run  # what starts kubectl, when a build's files and spec are new

    def counted(directory: Path, spec: dict[str, object] | None) -> tuple[str, str | None]:
        nonlocal builds
        builds += 1
        return real_run(directory, spec)

    kustomize._run = counted
    starts, start_builds = [], []
    for n in range(5):
        with tempfile.TemporaryDirectory() as tmp:
            repo = seed_repository(Path(tmp) / "myapp.git")
            before, began = builds, time.perf_counter()
            with start_cluster(repo.path, time_scale=100.0, pod_start_delay=5.0) as cluster:
                while not _ready(cluster, repo.sha):
                    time.sleep(0.01)
                starts.append(time.perf_counter() - began)
                start_builds.append(builds - before)
                if n == 0:
                    steady_builds, steady_cpu = builds, _children_cpu()
                    time.sleep(STEADY_SECONDS)
                    steady_builds, steady_cpu = builds - steady_builds, _children_cpu() - steady_cpu
    print(f"cluster start to three envs Ready: the first {starts[0]:.2f} s with "
          f"{start_builds[0]} kubectl kustomize runs; the next {len(starts) - 1} over the same "
          f"content: median {statistics.median(starts[1:]):.2f} s, max {max(starts[1:]):.2f} s, "
          f"{sum(start_builds[1:])} kubectl kustomize runs in all")
    print(f"steady for {STEADY_SECONDS:.0f} s (about {STEADY_SECONDS / 0.6:.0f} dev reconciles): "
          f"{steady_builds} kubectl kustomize runs, {steady_cpu:.2f} s CPU in child processes")


if __name__ == "__main__":
    main()
