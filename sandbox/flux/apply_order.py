"""The order kustomize-controller applies a build in, which is the order of its inventory:
fluxcd/pkg/ssa's staged apply (cluster definitions, then *Class kinds, then the rest), each
stage sorted by its ReconcileOrder of kinds, then group, kind, namespace and name.

Pure: it orders manifests and nothing else.
"""

from __future__ import annotations

from typing import Any

# ssa.ReconcileOrder.First; kinds not named sort after them, then Last
FIRST = ("CustomResourceDefinition", "Namespace", "ClusterRole", "ClusterClass", "RuntimeClass",
         "PriorityClass", "StorageClass", "VolumeSnapshotClass", "IngressClass", "GatewayClass",
         "ClusterRoleBinding", "ResourceQuota", "ServiceAccount", "Role", "RoleBinding",
         "ConfigMap", "Secret", "Service", "LimitRange", "Deployment", "StatefulSet", "CronJob",
         "PodDisruptionBudget")
LAST = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")


def _stage(kind: str, group: str) -> int:
    if kind in ("CustomResourceDefinition", "Namespace") or (
            kind == "ClusterRole" and group == "rbac.authorization.k8s.io"):
        return 0
    return 1 if kind.endswith("Class") else 2


def _kind_index(kind: str) -> int:
    if kind in FIRST:
        return FIRST.index(kind) - len(FIRST)
    return LAST.index(kind) + 1 if kind in LAST else 0


def apply_key(manifest: dict[str, Any]) -> tuple[int, int, str, str, str, str]:
    kind = str(manifest.get("kind", ""))
    api_version = str(manifest.get("apiVersion", ""))
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    meta = manifest.get("metadata") or {}
    return (_stage(kind, group), _kind_index(kind), group, kind,
            str(meta.get("namespace") or ""), str(meta.get("name") or ""))


def in_apply_order(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(manifests, key=apply_key)
