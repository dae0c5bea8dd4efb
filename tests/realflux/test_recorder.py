"""The recorder reads any Kubernetes API: here the simulator (sandbox/kube's API server with
sandbox/flux behind it), through the same kubernetes client it uses on the real API server,
so one scenario can be recorded from both and the sequences compared.
"""

from __future__ import annotations

from pathlib import Path

from sandbox.cluster import EXAMPLE_REPO_URL, start_cluster
from sandbox.gitseed import seed_repository
from tests.realflux.harness import SETTLE
from tests.realflux.recorder import Recorder
from tests.realflux.scenarios import SCENARIOS
from tests.realflux.worlds import FluxWorld


def test_the_recorder_records_the_simulator_too(tmp_path: Path) -> None:
    repo = seed_repository(tmp_path / "myapp.git")
    with start_cluster(repo.path, time_scale=60.0, pod_start_delay=0.1) as cluster:
        recorder = Recorder(cluster.api_client(), "flux-system", "myapp-dev",
                            {repo.sha: "seed"}).start()
        try:
            sequence = recorder.until(lambda s: s[-1].last_applied == "dev@sha1:<seed>",
                                      "dev applied in the simulator")
        finally:
            recorder.stop()
    assert sequence[-1].ready == "True"
    assert sequence[-1].reason == "ReconciliationSucceeded"
    assert sequence[-1].message == "Applied revision: dev@sha1:<seed>"
    assert sequence[-1].observed_generation == 1
    recorder.write(tmp_path / "sequence.json")
    assert '"last_applied": "dev@sha1:<seed>"' in (tmp_path / "sequence.json").read_text()


def test_a_stalled_source_is_recorded_until_its_deletion_is_seen(tmp_path: Path) -> None:
    """The invalid-URL scenario on the simulator: Stalled, then the deletion reconcile's
    conditions (Stalled dropped, Ready=False URLInvalid and FetchFailed kept), written before
    the finalizer goes. The recording waits for the watch's DELETED event, so that last write
    is in it however late the watch delivers it: the sequence real Flux shows."""
    repo = seed_repository(tmp_path / "myapp.git")
    scenario = next(s for s in SCENARIOS if s.name == "source-url-invalid")
    with start_cluster(repo.path, repo_url=EXAMPLE_REPO_URL, time_scale=60.0,
                       pod_start_delay=0.1) as cluster:
        api = cluster.api_client()
        try:
            world = FluxWorld("simulator", api, str(repo.path), EXAMPLE_REPO_URL, repo.path,
                              repo.sha, tmp_path, SETTLE, clock=cluster.simulator.clock)
            rows = scenario.play(world, tmp_path / "sequences")
        finally:
            api.close()
    stalled = ("False", "URLInvalid", "failed to parse url 'https://bad host/x'", None)
    assert rows["source"] == [
        ("", "", "", None, -1, ()),
        ("Unknown", "Progressing", "processing object", None, -1, ("Reconciling", "Ready")),
        ("Unknown", "Progressing", "building artifact", None, -1, ("Reconciling", "Ready")),
        (*stalled, -1, ("Stalled", "Ready", "FetchFailed")),
        (*stalled, 0, ("Stalled", "Ready", "FetchFailed")),  # counted from generation 1
        (*stalled, 0, ("Ready", "FetchFailed")),  # the deletion reconcile
    ]
