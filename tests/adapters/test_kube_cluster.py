"""The Cluster port and the shared Kustomization watch on the real kubernetes client, against
the emulated cluster with its Flux simulator."""

from __future__ import annotations

import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from sandbox.world import World
from slackbot.adapters.flux import KubeCluster, api_client, flux_timeout
from slackbot.adapters.flux_watch import KustomizationWatch
from slackbot.errors import ClusterError
from slackbot.pipeline import FluxRef
from slackbot.ports import KustomizationStatus
from tests.adapters.conftest import push, wait_for

DEV, STAGING = FluxRef("myapp-dev"), FluxRef("myapp-staging")


@pytest.fixture
def cluster(world: World) -> KubeCluster:
    return KubeCluster(api_client(world.cluster.url))


def test_kustomization_status_reads_flux_conditions(world: World, cluster: KubeCluster) -> None:
    want = f"dev@sha1:{world.repo.sha}"
    status = wait_for(lambda: (s := cluster.kustomization(DEV)).is_ready and s, "dev Ready")
    assert status.last_applied_revision == want
    assert (status.ready, status.reason) == ("True", "ReconciliationSucceeded")
    assert status.message == f"Applied revision: {want}"
    assert not status.suspended
    staging = cluster.kustomization(STAGING)
    assert staging.depends_on == (DEV,)
    assert cluster.source_revision(DEV) == want


def test_rollout_reports_replicas_as_kubectl_does(world: World, cluster: KubeCluster) -> None:
    wait_for(lambda: cluster.kustomization(STAGING).is_ready, "staging Ready")
    rollout = wait_for(lambda: (r := cluster.rollout("staging", "myapp")).complete and r,
                       "staging rolled out")
    assert (rollout.desired, rollout.ready, rollout.available) == (2, 2, 2)
    assert rollout.message == 'deployment "myapp" successfully rolled out'
    assert rollout.images == ("ghcr.io/acme/myapp:1.0.0",)  # the pods' image, from the spec
    with pytest.raises(ClusterError, match="cannot read deployment staging/nope: 404"):
        cluster.rollout("staging", "nope")


def test_reconcile_request_is_handled_and_echoed(world: World, cluster: KubeCluster) -> None:
    wait_for(lambda: cluster.kustomization(DEV).is_ready, "dev Ready")
    cluster.request_reconcile(DEV, DEV, "promotebot-test-1")
    assert cluster.kustomization(DEV).requested_at == "promotebot-test-1"  # the annotation read
    status = wait_for(
        lambda: (s := cluster.kustomization(DEV)).last_handled_reconcile_at == "promotebot-test-1"
        and s, "the reconcile request handled")
    assert status.is_ready
    assert status.timeout == timedelta(minutes=3)  # dev's spec.timeout


def test_flux_timeout_is_spec_timeout_else_interval() -> None:
    assert flux_timeout({"interval": "5m", "timeout": "1m30s"}) == timedelta(seconds=90)
    assert flux_timeout({"interval": "10m"}) == timedelta(minutes=10)
    assert flux_timeout({}) is None
    assert flux_timeout({"timeout": "soon"}) is None


def test_shared_watch_delivers_flux_progress_after_a_push(world: World, tmp_path: Path) -> None:
    seen: list[KustomizationStatus] = []
    lock = threading.Lock()

    def on_status(status: KustomizationStatus) -> None:
        with lock:
            seen.append(status)

    watch = KustomizationWatch(api_client(world.cluster.url), on_status, timeout_seconds=2)
    watch.start()
    try:
        wait_for(watch.connected.is_set, "the watch connected")
        sha = push(world, "dev", "apps/myapp/NOTES.md", "x\n", "notes", tmp_path)
        want = f"dev@sha1:{sha}"
        wait_for(lambda: any(s.ref == DEV and s.last_applied_revision == want and s.is_ready
                             for s in list(seen)), "the watch to report dev at the pushed sha")
        refs = {s.ref.name for s in seen}
        assert {"myapp-dev", "myapp-staging", "myapp-prod"} <= refs
        # the stream ends every 2 s (timeoutSeconds) and resumes without losing the thread
        before = watch.events_seen
        push(world, "dev", "apps/myapp/NOTES.md", "y\n", "notes again", tmp_path)
        wait_for(lambda: watch.events_seen > before + 1, "events after a reconnect", timeout=15)
    finally:
        watch.stop()


def test_a_rollout_answer_that_is_no_deployment_is_a_cluster_error() -> None:
    # the Deployment is decoded from the answer's own JSON: a proxy's HTML page is said so
    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<html>sign in</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        cluster = KubeCluster(api_client(f"http://127.0.0.1:{server.server_address[1]}"))
        with pytest.raises(ClusterError, match="the answer is not a Deployment"):
            cluster.rollout("myapp-dev", "myapp")
    finally:
        server.shutdown()
        server.server_close()
