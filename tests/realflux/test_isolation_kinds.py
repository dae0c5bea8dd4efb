"""The emulated API server against a real kube-apiserver for the kinds that isolate an env's
namespace (the example content's ResourceQuota and NetworkPolicies): the same bodies sent to
both, through the real kubernetes client, get the same answer: the stored spec with its
defaults and generation, or the same refusal (code, reason and every cause's field and message).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import kubernetes.client
import pytest
import yaml
from kubernetes.client.exceptions import ApiException

from sandbox.gitseed import EXAMPLE_APPS_DIR
from sandbox.kube.client import api_client
from sandbox.kube.server import KubeApiServer
from sandbox.kube.store import Store
from tests.realflux import build
from tests.realflux.apiserver import start_control_plane

pytestmark = pytest.mark.timeout(300)
Obj = dict[str, Any]
NAMESPACE = "isolation"


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[kubernetes.client.ApiClient]:
    assert not build.missing(), "./scripts/test builds the real binaries before this test"
    plane = start_control_plane(tmp_path_factory.mktemp("isolation-apiserver"))
    api = plane.client()
    try:
        kubernetes.client.CoreV1Api(api).create_namespace({"metadata": {"name": NAMESPACE}})
        yield api
    finally:
        api.close()
        plane.stop()


@pytest.fixture(scope="module")
def emulated() -> Iterator[kubernetes.client.ApiClient]:
    store = Store()
    store.create("namespaces", None, {"metadata": {"name": NAMESPACE}})
    server = KubeApiServer(store).start()
    api = api_client(server.url)
    try:
        yield api
    finally:
        api.close()
        server.stop()


def example_objects() -> list[Obj]:
    """The quota of prod's overlay and the base's network policies, as written."""
    overlay = EXAMPLE_APPS_DIR / "myapp" / "overlays" / "prod" / "resourcequota.yaml"
    base = EXAMPLE_APPS_DIR / "myapp" / "base" / "networkpolicies.yaml"
    return [d for path in (overlay, base) for d in yaml.safe_load_all(path.read_text()) if d]


def quota(name: str, spec: Obj) -> Obj:
    return {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": name},
            "spec": spec}


def policy(name: str, spec: Obj) -> Obj:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name}, "spec": spec}


REFUSED = [
    quota("bad-quantity", {"hard": {"pods": "two"}}),
    quota("negative", {"hard": {"cpu": "-1"}}),
    quota("unknown-resource", {"hard": {"foo": "1"}}),
    quota("unknown-scope", {"scopes": ["Nope"], "hard": {"pods": "1"}}),
    policy("bad-type", {"podSelector": {}, "policyTypes": ["Sideways"]}),
    policy("bad-port", {"podSelector": {}, "ingress": [{"ports": [{"port": 99999}]}]}),
    policy("bad-protocol", {"podSelector": {},
                            "ingress": [{"ports": [{"protocol": "HTTP", "port": 80}]}]}),
    policy("bad-cidr", {"podSelector": {},
                        "ingress": [{"from": [{"ipBlock": {"cidr": "nope"}}]}]}),
    policy("no-peer", {"podSelector": {}, "ingress": [{"from": [{}]}]}),
    policy("two-peers", {"podSelector": {}, "egress": [{"to": [
        {"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}]}]}),
    policy("bad-label", {"podSelector": {"matchLabels": {"a": "b c"}}}),
]
ACCEPTED = [
    *example_objects(),
    quota("qualified", {"hard": {"requests.cpu": "1", "count/deployments.apps": "3"}}),
    policy("empty", {}),
    policy("egress-too", {"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}],
                          "egress": [{}]}),
    policy("named-port", {"podSelector": {}, "ingress": [{"ports": [{"port": "http"}]}]}),
]


def _create(api: kubernetes.client.ApiClient, body: Obj) -> Obj:
    body = copy.deepcopy(body)
    if body["kind"] == "ResourceQuota":
        created = kubernetes.client.CoreV1Api(api).create_namespaced_resource_quota(
            NAMESPACE, body)
    else:
        created = kubernetes.client.NetworkingV1Api(api).create_namespaced_network_policy(
            NAMESPACE, body)
    found: Obj = api.sanitize_for_serialization(created)
    return found


def _delete(api: kubernetes.client.ApiClient, body: Obj) -> None:
    name = body["metadata"]["name"]
    if body["kind"] == "ResourceQuota":
        # (the answer is the object or a Status: not read)
        kubernetes.client.CoreV1Api(api).delete_namespaced_resource_quota(
            name, NAMESPACE, _preload_content=False)
    else:
        kubernetes.client.NetworkingV1Api(api).delete_namespaced_network_policy(
            name, NAMESPACE, _preload_content=False)


def answer(api: kubernetes.client.ApiClient, body: Obj) -> Obj:
    """What the server made of `body`: the stored object's spec, generation and status, or
    the refusal; the object is deleted again, so each body meets an empty namespace."""
    try:
        created = _create(api, body)
    except ApiException as exc:
        status = yaml.safe_load(exc.body)
        causes = sorted((c.get("field", ""), c["message"])
                        for c in (status.get("details") or {}).get("causes") or [])
        return {"code": exc.status, "reason": status["reason"],
                "message": status["message"] if not causes else None, "causes": causes}
    _delete(api, body)
    return {"spec": created.get("spec"), "generation": created["metadata"].get("generation"),
            "status": created.get("status")}


def label(body: Obj) -> str:
    return f"{body['kind']}-{body['metadata']['name']}"


@pytest.mark.parametrize("body", ACCEPTED + REFUSED, ids=label)
def test_the_emulated_apiserver_answers_as_kube_apiserver_does(
        body: Obj, real: kubernetes.client.ApiClient,
        emulated: kubernetes.client.ApiClient) -> None:
    on_real, on_emulator = answer(real, body), answer(emulated, body)
    assert on_emulator == on_real
    assert ("code" in on_real) == (body in REFUSED), on_real


def test_a_policy_spec_change_counts_a_generation_and_a_quota_has_none(
        real: kubernetes.client.ApiClient, emulated: kubernetes.client.ApiClient) -> None:
    def generations(api: kubernetes.client.ApiClient) -> tuple[Any, Any]:
        net, core = kubernetes.client.NetworkingV1Api(api), kubernetes.client.CoreV1Api(api)
        net.create_namespaced_network_policy(NAMESPACE, policy("changes", {"podSelector": {}}))
        core.create_namespaced_resource_quota(NAMESPACE, quota("changes", {"hard": {"pods": "1"}}))
        try:
            changed = net.patch_namespaced_network_policy(
                "changes", NAMESPACE, {"spec": {"podSelector": {"matchLabels": {"a": "b"}}}})
            bumped = core.patch_namespaced_resource_quota(
                "changes", NAMESPACE, {"spec": {"hard": {"pods": "2"}}})
            return changed.metadata.generation, bumped.metadata.generation
        finally:
            net.delete_namespaced_network_policy("changes", NAMESPACE, _preload_content=False)
            core.delete_namespaced_resource_quota("changes", NAMESPACE, _preload_content=False)

    assert generations(emulated) == generations(real) == (2, None)


def test_the_bodies_cover_every_kind_of_the_example() -> None:
    kinds = {(d["kind"], d["metadata"]["name"]) for d in example_objects()}
    assert kinds == {("ResourceQuota", "compute-resources"),
                     ("NetworkPolicy", "default-deny-ingress"),
                     ("NetworkPolicy", "allow-same-namespace"),
                     ("NetworkPolicy", "allow-from-ingress")}
