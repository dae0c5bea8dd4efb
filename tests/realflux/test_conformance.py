"""The conformance suite: each scenario of scenarios.py played on real Flux (the harness: real
source-controller and kustomize-controller on a real API server) and on the simulator
(sandbox/kube + sandbox/flux), and the recorded sequences of what the bot reads compared:
(Ready status, reason, message prefix, lastAppliedRevision, lastAttemptedRevision,
observedGeneration) for a Kustomization, and for a GitRepository (Ready status, reason,
message prefix, artifact revision, observedGeneration, the condition types in order).
Timings aside: durations are masked, and a retried failure is compared up to its second try.

Both sequences go to artifacts/realflux/sequences/<scenario>.<world>.<object>.json.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.cluster import EXAMPLE_REPO_URL, Cluster, start_cluster
from sandbox.gitseed import seed_repository
from tests.realflux.harness import SETTLE, Harness
from tests.realflux.scenarios import SCENARIOS, Row, Scenario, dump, first_failures
from tests.realflux.worlds import FluxWorld

pytestmark = pytest.mark.timeout(900)  # the first test also waits for the harness start-up

# The simulator runs 10 simulated seconds per real second: a 30 s health-check timeout or
# dependency requeue passes in 3 s, while a kustomize build still takes its real time.
SIM_TIME_SCALE = 10.0
RETRIED = {"source-fetch-fails"}  # how many retries fit in a recording is timing


@pytest.fixture(scope="module")
def real(realflux: Harness) -> FluxWorld:
    assert realflux.repo is not None
    return FluxWorld("real", realflux.admin(), realflux.clone_url, realflux.clone_url,
                     realflux.repo.path, realflux.repo.sha, realflux.workdir, SETTLE)


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FluxWorld]:
    workdir = tmp_path_factory.mktemp("conformance-sim")
    repo = seed_repository(workdir / "myapp.git")
    cluster: Cluster = start_cluster(repo.path, repo_url=EXAMPLE_REPO_URL,
                                     time_scale=SIM_TIME_SCALE, pod_start_delay=1.0)
    api = cluster.api_client()
    try:
        yield FluxWorld("simulator", api, str(repo.path), EXAMPLE_REPO_URL, repo.path, repo.sha,
                        workdir, SETTLE, clock=cluster.simulator.clock)
    finally:
        api.close()
        cluster.stop()


def compared(rows: dict[str, list[Row]], scenario: Scenario) -> dict[str, list[Row]]:
    if scenario.name in RETRIED:
        return {key: first_failures(found) for key, found in rows.items()}
    return rows


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_the_simulator_agrees_with_real_flux(scenario: Scenario, real: FluxWorld,
                                             simulator: FluxWorld, sequences: Path) -> None:
    on_real = compared(scenario.play(real, sequences), scenario)
    on_simulator = compared(scenario.play(simulator, sequences), scenario)
    if on_simulator != on_real:
        diff = "\n".join(difflib.unified_diff(dump(on_real).splitlines(),
                                              dump(on_simulator).splitlines(),
                                              "real Flux", "simulator", lineterm=""))
        pytest.fail(f"{scenario.what}: the simulator's sequence differs from real Flux's\n{diff}")
