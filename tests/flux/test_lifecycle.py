"""Starting and stopping the emulated cluster: threads end, the module runs on its own, and
kubectl reads what the simulator wrote."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

import kubernetes.client

from sandbox.cluster import start_cluster
from sandbox.gitseed import SeededRepo
from sandbox.kube.client import api_client
from tests.flux.helpers import KS, TIME_SCALE, Env, is_ready_at, wait_for
from tests.tools import kubectl as kubectl_path

ROOT = Path(__file__).resolve().parents[2]


def test_stop_ends_every_thread_the_cluster_started(seeded_repo: SeededRepo) -> None:
    before = set(threading.enumerate())
    cluster = start_cluster(seeded_repo.path, time_scale=TIME_SCALE)
    api = cluster.api_client()
    custom = kubernetes.client.CustomObjectsApi(api)
    wait_for(
        lambda: is_ready_at(
            custom.get_namespaced_custom_object(*KS[:2], "flux-system", KS[2], "myapp-dev"),
            f"dev@sha1:{seeded_repo.sha}",
        ),
        "dev Ready",
    )
    started = set(threading.enumerate()) - before
    assert any(t.name.startswith("kustomize-controller") for t in started)
    api.close()
    cluster.stop()
    wait_for(lambda: not [t for t in started if t.is_alive()], "the cluster's threads to end")
    cluster.stop()  # a second stop is harmless


def test_cluster_module_runs_until_sigterm(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.cluster", "--time-scale", str(TIME_SCALE)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Kubernetes API: http://127.0.0.1:"), first
        url = first.split(": ", 1)[1].strip()
        with api_client(url) as api:
            custom = kubernetes.client.CustomObjectsApi(api)
            wait_for(
                lambda: (
                    (
                        c := [
                            x
                            for x in (
                                custom.get_namespaced_custom_object(
                                    *KS[:2], "flux-system", KS[2], "myapp-dev"
                                ).get("status")
                                or {}
                            ).get("conditions", [])
                            if x["type"] == "Ready"
                        ]
                    )
                    and c[0]["status"] == "True"
                ),
                "dev Ready in the subprocess",
            )
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
        if process.stdout:
            process.stdout.close()
        if process.stderr:
            process.stderr.close()


def test_kubectl_sees_applied_revision_and_running_pods(env: Env) -> None:
    url = env.cluster.url

    def kubectl(*args: str) -> str:
        done = subprocess.run(
            [kubectl_path(), "--server", url, *args], capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    # dev's 1m interval is a fraction of a second here, and every reconcile shows
    # Ready=Unknown "Reconciliation in progress" meanwhile, as kustomize-controller's does:
    # time stands still, so the reconcile in flight ends and no new one starts.
    env.cluster.simulator.clock.hold()
    wait_for(lambda: is_ready_at(env.ks("dev"), f"dev@sha1:{env.repo.sha}"), "dev Ready")
    kustomizations = kubectl("get", "kustomizations", "-A")
    assert f"Applied revision: dev@sha1:{env.repo.sha}" in kustomizations
    pods = kubectl("get", "pods", "-n", "prod")
    assert pods.count("Running") == 3
    rollout = kubectl("rollout", "status", "deployment/myapp", "-n", "staging", "--timeout=10s")
    assert 'deployment "myapp" successfully rolled out' in rollout
