"""Fixtures of the kube emulator tests: a store, the apiserver on port 0, real clients."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import kubernetes.client
import pytest

from sandbox.kube.client import api_client
from sandbox.kube.server import KubeApiServer
from sandbox.kube.store import Store


@dataclass
class Cluster:
    store: Store
    server: KubeApiServer
    api: kubernetes.client.ApiClient

    @property
    def custom(self) -> kubernetes.client.CustomObjectsApi:
        return kubernetes.client.CustomObjectsApi(self.api)

    @property
    def apps(self) -> kubernetes.client.AppsV1Api:
        return kubernetes.client.AppsV1Api(self.api)

    @property
    def core(self) -> kubernetes.client.CoreV1Api:
        return kubernetes.client.CoreV1Api(self.api)


def start_cluster(
    history_size: int = 1000, max_watch_seconds: float = 1800.0
) -> tuple[Store, KubeApiServer]:
    store = Store(history_size=history_size)
    for namespace in ("flux-system", "dev", "staging", "prod"):
        store.create("namespaces", None, {"metadata": {"name": namespace}})
    server = KubeApiServer(
        store, bookmark_interval=0.2, max_watch_seconds=max_watch_seconds
    ).start()
    return store, server


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    store, server = start_cluster()
    api = api_client(server.url)
    try:
        yield Cluster(store, server, api)
    finally:
        api.close()
        server.stop()


def raw_request(
    url: str,
    method: str,
    path: str,
    body: bytes | None = None,
    content_type: str | None = "application/json",
) -> tuple[int, dict[str, Any]]:
    """One HTTP request without the kubernetes client (it validates bodies before sending)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    headers = {"Accept": "application/json"}
    if content_type:
        headers["Content-Type"] = content_type
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
    finally:
        conn.close()
    return response.status, json.loads(payload) if payload else {}
