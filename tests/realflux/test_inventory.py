"""What real Flux applies of the example content, against the simulator: each env's
Kustomization inventory (the same entries, in the same order) and the isolation objects as the
real API server stored them (the quota's hard limits, the policies' types), read through the
kubernetes client in both worlds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import kubernetes.client
import pytest

from sandbox.cluster import EXAMPLE_REPO_URL, Cluster, start_cluster
from sandbox.gitseed import seed_repository
from tests.realflux.harness import ENVS, Harness
from tests.waiting import wait_for

pytestmark = pytest.mark.timeout(900)  # the first realflux test waits for the harness start-up
KS = ("kustomize.toolkit.fluxcd.io", "v1", "kustomizations")


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[kubernetes.client.ApiClient]:
    workdir = tmp_path_factory.mktemp("inventory-sim")
    repo = seed_repository(workdir / "myapp.git")
    cluster: Cluster = start_cluster(repo.path, repo_url=EXAMPLE_REPO_URL, time_scale=10.0)
    api = cluster.api_client()
    try:
        yield api
    finally:
        api.close()
        cluster.stop()


def inventory(api: kubernetes.client.ApiClient, env: str) -> list[dict[str, Any]]:
    def applied() -> list[dict[str, Any]] | None:
        ks = kubernetes.client.CustomObjectsApi(api).get_namespaced_custom_object(
            *KS[:2], "flux-system", KS[2], f"myapp-{env}")
        status = ks.get("status") or {}
        entries: list[dict[str, Any]] = (status.get("inventory") or {}).get("entries") or []
        return entries if status.get("lastAppliedRevision") else None

    found: list[dict[str, Any]] = wait_for(applied, f"myapp-{env} applied", timeout=240)
    return found


def isolation(api: kubernetes.client.ApiClient, env: str) -> dict[str, Any]:
    quotas = kubernetes.client.CoreV1Api(api).list_namespaced_resource_quota(env).items
    policies = kubernetes.client.NetworkingV1Api(api).list_namespaced_network_policy(env).items
    return {"quotas": {q.metadata.name: q.spec.hard for q in quotas},
            "policies": {p.metadata.name: (p.spec.policy_types, p.metadata.generation,
                                           api.sanitize_for_serialization(p.spec))
                         for p in policies}}


@pytest.mark.parametrize("env", ENVS)
def test_the_simulator_applies_what_real_flux_applies(env: str, realflux: Harness,
                                                      simulated: kubernetes.client.ApiClient
                                                      ) -> None:
    real = realflux.admin()
    assert inventory(simulated, env) == inventory(real, env)
    on_real = isolation(real, env)
    assert on_real["quotas"].keys() == {"compute-resources"}
    assert len(on_real["policies"]) == 3
    assert isolation(simulated, env) == on_real
