"""Fixtures of the Flux simulator tests: a seeded bare repository and running clusters."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sandbox.cluster import Customizer, start_cluster
from sandbox.gitseed import SeededRepo, seed_repository
from tests.flux.helpers import EXPECTED, TIME_SCALE, Env, is_ready_at, wait_for


@pytest.fixture
def seeded_repo(tmp_path: Path) -> SeededRepo:
    return seed_repository(tmp_path / "myapp.git")


@pytest.fixture
def start_env(tmp_path: Path, seeded_repo: SeededRepo) -> Iterator[Callable[..., Env]]:
    """Starts a cluster over the seeded repository (optionally customized); stops it afterwards."""
    started: list[Env] = []

    def start(
        customize: Customizer | None = None,
        time_scale: float = TIME_SCALE,
        feature_gates: dict[str, bool] | None = None,
    ) -> Env:
        cluster = start_cluster(
            seeded_repo.path,
            time_scale=time_scale,
            customize=customize,
            feature_gates=feature_gates,
        )
        env = Env(cluster, seeded_repo, tmp_path)
        started.append(env)
        return env

    yield start
    for env in started:
        env.api.close()
        env.cluster.stop()


@pytest.fixture
def env(start_env: Callable[..., Env]) -> Env:
    """A cluster whose three environments have all applied the seed commit."""
    running = start_env()
    for name in EXPECTED:
        revision = f"{name}@sha1:{running.repo.sha}"
        wait_for(lambda n=name, r=revision: is_ready_at(running.ks(n), r), f"myapp-{name} Ready")
    return running
