"""Each env of the example content is isolated as the workflow says: its overlay builds (with
the real `kubectl kustomize`) a ResourceQuota the app's rollout fits in and NetworkPolicies that
deny ingress from other namespaces; the emulated Flux applies them (its inventory lists them,
the kubernetes client reads them with the apiserver's defaults, kubectl lists them) and prunes
one removed from the overlay.
"""

from __future__ import annotations

import math
import os
import subprocess
from decimal import Decimal
from typing import Any

import kubernetes.client
import yaml
from kubernetes.utils import parse_quantity

from sandbox.gitseed import EXAMPLE_APPS_DIR
from tests.flux.helpers import EXPECTED, Env, is_ready_at, wait_for
from tests.tools import kubectl

POLICIES = ("allow-from-ingress", "allow-same-namespace", "default-deny-ingress")
QUOTA = "compute-resources"


def built(env: str) -> list[dict[str, Any]]:
    overlay = EXAMPLE_APPS_DIR / "myapp" / "overlays" / env
    out = subprocess.run([kubectl(), "kustomize", str(overlay)], capture_output=True, text=True,
                         check=True).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def of_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_every_env_builds_its_quota_and_network_policies_in_its_namespace() -> None:
    for env in EXPECTED:
        docs = built(env)
        assert sorted((d["kind"], d["metadata"]["name"]) for d in docs) == sorted(
            [("Deployment", "myapp"), ("ResourceQuota", QUOTA),
             *(("NetworkPolicy", name) for name in POLICIES)])
        assert {d["metadata"]["namespace"] for d in docs} == {env}


def test_the_policies_let_in_only_the_namespace_itself_and_the_ingress_to_http() -> None:
    for env in EXPECTED:
        policies = of_kind(built(env), "NetworkPolicy")
        deny = policies["default-deny-ingress"]["spec"]
        assert deny == {"podSelector": {}, "policyTypes": ["Ingress"]}  # no rule: nothing in
        same = policies["allow-same-namespace"]["spec"]
        assert same["podSelector"] == {} and same["ingress"] == [{"from": [{"podSelector": {}}]}]
        ingress = policies["allow-from-ingress"]["spec"]
        [rule] = ingress["ingress"]
        assert [peer.keys() for peer in rule["from"]] == [{"namespaceSelector"}]
        assert rule["ports"] == [{"protocol": "TCP", "port": "http"}]
        deployment = of_kind(built(env), "Deployment")["myapp"]["spec"]["template"]
        assert ingress["podSelector"]["matchLabels"].items() <= \
            deployment["metadata"]["labels"].items()
        [container] = deployment["spec"]["containers"]
        assert [p["name"] for p in container["ports"]] == ["http"]
        # no policy limits egress: the app still reaches its dependencies and DNS
        assert all("Egress" not in p["spec"]["policyTypes"] for p in policies.values())


def test_the_quota_holds_a_rolling_update_of_every_env() -> None:
    """Replicas plus the rollout's surge (25%, rounded up: the Deployment's default) fit in
    the quota, pods and every request and limit the quota sets."""
    for env, (replicas, _memory, _cpu) in EXPECTED.items():
        docs = built(env)
        hard = of_kind(docs, "ResourceQuota")[QUOTA]["spec"]["hard"]
        spec = of_kind(docs, "Deployment")["myapp"]["spec"]
        assert spec["replicas"] == replicas
        assert "strategy" not in spec  # the default RollingUpdate: maxSurge 25%
        pods = replicas + math.ceil(replicas * 0.25)
        assert pods <= int(hard["pods"]), env
        [container] = spec["template"]["spec"]["containers"]
        limited = {"requests.cpu", "requests.memory", "limits.cpu", "limits.memory"}
        assert limited <= hard.keys(), "a cpu/memory quota needs every pod to set them"
        for name in limited:
            side, resource = name.split(".")
            each: Decimal = parse_quantity(container["resources"][side][resource])
            assert pods * each <= parse_quantity(hard[name]), (env, name)


def test_the_emulated_flux_applies_them_and_the_client_reads_them(env: Env) -> None:
    net = kubernetes.client.NetworkingV1Api(env.api)
    for name in EXPECTED:
        entries = {e["id"] for e in env.ks(name)["status"]["inventory"]["entries"]}
        assert f"{name}_{QUOTA}__ResourceQuota" in entries
        assert {f"{name}_{p}_networking.k8s.io_NetworkPolicy" for p in POLICIES} <= entries
        quota = env.core.read_namespaced_resource_quota(QUOTA, name)
        assert quota.spec.hard == of_kind(built(name), "ResourceQuota")[QUOTA]["spec"]["hard"]
        assert quota.metadata.labels["kustomize.toolkit.fluxcd.io/name"] == f"myapp-{name}"
        policies = {p.metadata.name: p for p in net.list_namespaced_network_policy(name).items}
        assert sorted(policies) == sorted(POLICIES)
        deny = policies["default-deny-ingress"].spec
        assert deny.policy_types == ["Ingress"] and deny.ingress is None


def test_kubectl_lists_them_with_a_real_clusters_columns(env: Env) -> None:
    def get(*args: str) -> list[str]:
        home = {"HOME": str(env.workdir), "PATH": os.environ.get("PATH", "/usr/bin")}
        return subprocess.run(
            [kubectl(), "--server", env.cluster.url, "--cache-dir", str(env.workdir / "cache"),
             "get", *args], capture_output=True, text=True, check=True, timeout=30,
            env=home).stdout.splitlines()

    listed = get("networkpolicies", "-n", "prod")
    assert listed[0].split() == ["NAME", "POD-SELECTOR", "AGE"]
    assert {line.split()[0]: line.split()[1] for line in listed[1:]} == {
        "allow-from-ingress": "app=myapp", "allow-same-namespace": "<none>",
        "default-deny-ingress": "<none>"}
    assert get("quota", "-n", "prod", "-o", "name") == [f"resourcequota/{QUOTA}"]


def test_a_quota_removed_from_the_overlay_is_pruned(env: Env) -> None:
    def drop_quota(work: Any) -> None:
        path = work / "apps/myapp/overlays/dev/kustomization.yaml"
        text = path.read_text()
        assert "  - resourcequota.yaml\n" in text
        path.write_text(text.replace("  - resourcequota.yaml\n", ""))

    sha = env.push("dev", drop_quota, "dev without its quota")
    ks = wait_for(lambda: (k := env.ks("dev")) and is_ready_at(k, f"dev@sha1:{sha}") and k,
                  "dev applied without its quota")
    entries = {e["id"] for e in ks["status"]["inventory"]["entries"]}
    assert f"dev_{QUOTA}__ResourceQuota" not in entries
    assert env.core.list_namespaced_resource_quota("dev").items == []
    assert [q.metadata.name for q in env.core.list_namespaced_resource_quota("staging").items] \
        == [QUOTA]
