"""Health of applied objects, as kstatus reports it to kustomize-controller's health checks.

A Deployment is Current when it has rolled out by kubectl's rule, Failed when
its progress deadline was exceeded, InProgress otherwise; Flux objects are Current when Ready
at their generation. Read-only: it must never write to the store.
"""

from __future__ import annotations

from sandbox.flux import conditions as cond
from sandbox.flux.runtime import Obj, StoreLike, generation, get_or_none, split_api_version
from sandbox.kube.resources import RESOURCES

_BY_GROUP_KIND = {(rt.group, rt.kind): (rt.plural, rt.namespaced) for rt in RESOURCES}


def rollout_status(deployment: Obj) -> tuple[str, str]:
    """(state, message) by kubectl's DeploymentStatusViewer: state Current, InProgress or Failed."""
    name = (deployment.get("metadata") or {}).get("name", "")
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    if generation(deployment) > int(status.get("observedGeneration") or 0):
        return "InProgress", "Waiting for deployment spec update to be observed..."
    progressing = cond.get(status, "Progressing")
    if progressing is not None and progressing.get("reason") == "ProgressDeadlineExceeded":
        return "Failed", f'deployment "{name}" exceeded its progress deadline'
    desired = int(spec.get("replicas", 1))
    updated = int(status.get("updatedReplicas") or 0)
    replicas = int(status.get("replicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    if updated < desired:
        return "InProgress", (
            f'Waiting for deployment "{name}" rollout to finish: {updated} out of {desired} '
            "new replicas have been updated..."
        )
    if replicas > updated:
        return "InProgress", (
            f'Waiting for deployment "{name}" rollout to finish: {replicas - updated} old '
            "replicas are pending termination..."
        )
    if available < updated:
        return "InProgress", (
            f'Waiting for deployment "{name}" rollout to finish: {available} of {updated} '
            "updated replicas are available..."
        )
    return "Current", f'deployment "{name}" successfully rolled out'


def object_status(store: StoreLike, ref: Obj) -> str:
    """kstatus of the object `ref` ({apiVersion?, kind, name, namespace?}) names."""
    kind = str(ref.get("kind", ""))
    group = split_api_version(str(ref.get("apiVersion") or ""))[0]
    served = _BY_GROUP_KIND.get((group, kind)) or next(
        (v for (g, k), v in _BY_GROUP_KIND.items() if k == kind and not ref.get("apiVersion")), None
    )
    if served is None:
        return "Unknown"
    plural, namespaced = served
    obj = get_or_none(
        store,
        plural,
        str(ref.get("namespace") or "") if namespaced else None,
        str(ref.get("name", "")),
    )
    if obj is None:
        return "NotFound"
    if kind == "Deployment":
        return rollout_status(obj)[0]
    status = obj.get("status") or {}
    if group.endswith("toolkit.fluxcd.io"):
        if cond.is_true(status, cond.STALLED):
            return "Failed"
        if generation(obj) == status.get("observedGeneration") and cond.is_true(status, cond.READY):
            return "Current"
        return "InProgress"
    if kind == "Pod":
        return "Current" if cond.is_true(status, "Ready") else "InProgress"
    return "Current"
