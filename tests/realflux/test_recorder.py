"""The recorder reads any Kubernetes API: here the simulator (sandbox/kube's API server with
sandbox/flux behind it), through the same kubernetes client it uses on the real API server,
so one scenario can be recorded from both and the sequences compared.
"""

from __future__ import annotations

from pathlib import Path

from sandbox.cluster import start_cluster
from sandbox.gitseed import seed_repository
from tests.realflux.recorder import Recorder


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
