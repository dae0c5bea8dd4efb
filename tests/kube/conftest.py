"""Fixtures of the kube emulator tests: a store, the apiserver on port 0, real clients."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

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


def start_cluster(history_size: int = 1000) -> tuple[Store, KubeApiServer]:
    store = Store(history_size=history_size)
    for namespace in ("flux-system", "dev", "staging", "prod"):
        store.create("namespaces", None, {"metadata": {"name": namespace}})
    server = KubeApiServer(store, bookmark_interval=0.2).start()
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
