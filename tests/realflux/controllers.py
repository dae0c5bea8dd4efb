"""The real Flux controllers, started against the real API server: source-controller with its
artifact storage served on loopback, and kustomize-controller.

Both run with their release defaults (no feature gate changed, no leader election, no events
receiver: there is no notification-controller), as the admin identity through a kubeconfig.
It does not create Flux objects (fluxobjects.py does).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from tests.realflux import build
from tests.realflux.apiserver import ControlPlane
from tests.realflux.processes import Process, free_port

STARTUP = 120.0  # seconds until the health endpoint answers ready
FLUX_NAMESPACE = "flux-system"


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _start(name: str, extra: list[str], plane: ControlPlane, directory: Path) -> Process:
    health, metrics = free_port(), free_port()
    kubeconfig = plane.kubeconfig(directory / f"{name}.kubeconfig")
    process = Process(name, [
        str(build.binary(name)),
        f"--health-addr=127.0.0.1:{health}", f"--metrics-addr=127.0.0.1:{metrics}",
        "--events-addr=", "--enable-leader-election=false",
        "--log-level=debug", "--log-encoding=json",
        *extra,
    ], directory / "logs" / f"{name}.log",
        env={"KUBECONFIG": str(kubeconfig), "RUNTIME_NAMESPACE": FLUX_NAMESPACE})
    try:
        process.wait_ready(lambda: _ready(health), timeout=STARTUP)
    except BaseException:
        process.stop()
        raise
    return process


def start_source_controller(plane: ControlPlane, directory: Path) -> Process:
    """source-controller, its artifacts stored under `directory` and served on 127.0.0.1."""
    storage = free_port()
    (directory / "artifacts").mkdir(parents=True, exist_ok=True)
    return _start("source-controller", [
        f"--storage-path={directory / 'artifacts'}",
        f"--storage-addr=127.0.0.1:{storage}", f"--storage-adv-addr=127.0.0.1:{storage}",
    ], plane, directory)


def start_kustomize_controller(plane: ControlPlane, directory: Path) -> Process:
    """kustomize-controller; it fetches artifacts from the URL source-controller advertises."""
    return _start("kustomize-controller", [], plane, directory)
