"""The simulated kustomize-controller applies a build in fluxcd/pkg/ssa's order, which is the
order of its inventory (tests/realflux/test_inventory.py compares it with real Flux's)."""

from __future__ import annotations

from typing import Any

from sandbox.flux.apply_order import in_apply_order


def obj(api_version: str, kind: str, name: str, namespace: str | None = "dev") -> dict[str, Any]:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": api_version, "kind": kind, "metadata": meta}


def test_definitions_then_classes_then_the_rest_by_kind_order_then_name() -> None:
    shuffled = [
        obj("networking.k8s.io/v1", "NetworkPolicy", "b"),
        obj("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "hook", None),
        obj("apps/v1", "Deployment", "web"),
        obj("v1", "ResourceQuota", "quota"),
        obj("networking.k8s.io/v1", "NetworkPolicy", "a"),
        obj("networking.k8s.io/v1", "IngressClass", "nginx", None),
        obj("v1", "Namespace", "dev", None),
        obj("apps/v1", "Deployment", "api", "prod"),
    ]
    assert [(o["kind"], o["metadata"]["name"]) for o in in_apply_order(shuffled)] == [
        ("Namespace", "dev"),  # cluster definitions first
        ("IngressClass", "nginx"),  # then the *Class kinds
        ("ResourceQuota", "quota"),  # then ReconcileOrder's kinds, in its order
        ("Deployment", "web"),  # namespace dev before prod
        ("Deployment", "api"),
        ("NetworkPolicy", "a"),  # kinds it does not name, by name
        ("NetworkPolicy", "b"),
        ("ValidatingWebhookConfiguration", "hook"),  # webhooks last
    ]
