"""A real control plane on loopback: etcd and kube-apiserver, RBAC on, TLS with our own CA.

Two identities exist from the start, both in a static token file: `realflux-admin` (group
system:masters, for the harness and the controllers) and nobody else; the bot's identity is a
real service-account token minted later through the TokenRequest API (see rbac.py). There is
no controller-manager, scheduler or kubelet: rollouts.py plays the Deployment controller.
"""

from __future__ import annotations

import secrets
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import kubernetes.client
import yaml

from tests.realflux import build
from tests.realflux.certs import Pki, make_pki
from tests.realflux.processes import Process, free_port

STARTUP = 180.0  # seconds; kube-apiserver's post-start hooks take ~15 s on an idle 2-core box


@dataclass(frozen=True)
class ControlPlane:
    """What a client needs to reach the API server, and the processes to stop."""

    url: str
    pki: Pki
    admin_token: str
    etcd: Process
    apiserver: Process

    def client(self, token: str | None = None) -> kubernetes.client.ApiClient:
        """A kubernetes client verifying our CA, as the admin or with another bearer token."""
        configuration = kubernetes.client.Configuration()
        configuration.host = self.url
        configuration.ssl_ca_cert = str(self.pki.ca_cert)
        configuration.api_key = {"authorization": f"Bearer {token or self.admin_token}"}
        return kubernetes.client.ApiClient(configuration)

    def kubeconfig(self, path: Path, token: str | None = None) -> Path:
        """A kubeconfig file for the controllers (and kubectl) with one bearer token."""
        path.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "realflux",
            "clusters": [{"name": "realflux", "cluster": {
                "server": self.url, "certificate-authority": str(self.pki.ca_cert)}}],
            "users": [{"name": "user", "user": {"token": token or self.admin_token}}],
            "contexts": [{"name": "realflux",
                          "context": {"cluster": "realflux", "user": "user"}}],
        }))
        path.chmod(0o600)
        return path

    def stop(self) -> None:
        self.apiserver.stop()
        self.etcd.stop()


def _http_ok(url: str, context: ssl.SSLContext | None = None) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5, context=context) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start_etcd(directory: Path) -> tuple[Process, str]:
    client_port, peer_port = free_port(), free_port()
    client, peer = f"http://127.0.0.1:{client_port}", f"http://127.0.0.1:{peer_port}"
    etcd = Process("etcd", [
        str(build.binary("etcd")), "--name=realflux", f"--data-dir={directory / 'etcd'}",
        f"--listen-client-urls={client}", f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=realflux={peer}", "--listen-metrics-urls=",
        "--unsafe-no-fsync", "--log-level=warn",
    ], directory / "logs" / "etcd.log")
    try:
        etcd.wait_ready(lambda: _http_ok(f"{client}/health"), timeout=60)
    except BaseException:
        etcd.stop()
        raise
    return etcd, client


def start_control_plane(directory: Path) -> ControlPlane:
    """etcd, then kube-apiserver on 127.0.0.1, both ready; stopped again if either fails."""
    pki = make_pki(directory / "pki")
    admin_token = secrets.token_hex(24)
    tokens = directory / "tokens.csv"
    tokens.write_text(f'{admin_token},realflux-admin,realflux-admin,"system:masters"\n')
    tokens.chmod(0o600)
    etcd, etcd_url = start_etcd(directory)
    port = free_port()
    try:
        apiserver = Process("kube-apiserver", [
            str(build.binary("kube-apiserver")),
            f"--etcd-servers={etcd_url}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            f"--secure-port={port}",
            f"--tls-cert-file={pki.serving_cert}", f"--tls-private-key-file={pki.serving_key}",
            f"--cert-dir={directory / 'apiserver-certs'}",
            f"--token-auth-file={tokens}",
            "--authorization-mode=RBAC",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki.service_account_public}",
            f"--service-account-signing-key-file={pki.service_account_key}",
            # The built-in `kubernetes` Service gets a ClusterIP from this range; no traffic
            # goes there. With no kubelet, its endpoints are not reconciled at all.
            "--service-cluster-ip-range=10.96.0.0/24", "--endpoint-reconciler-type=none",
            "--profiling=false", "--v=0",
        ], directory / "logs" / "kube-apiserver.log")
    except BaseException:
        etcd.stop()
        raise
    plane = ControlPlane(f"https://127.0.0.1:{port}", pki, admin_token, etcd, apiserver)
    context = ssl.create_default_context(cafile=str(pki.ca_cert))
    try:
        apiserver.wait_ready(lambda: _http_ok(f"{plane.url}/readyz", context), timeout=STARTUP)
    except BaseException:
        plane.stop()
        raise
    return plane
