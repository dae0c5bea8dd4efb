"""The Cluster port on Kubernetes and Flux, through the kubernetes client.

Reads Kustomizations, GitRepositories and Deployments, and requests reconciles the way
`flux reconcile kustomization --with-source` does: a merge-patch of the
`reconcile.fluxcd.io/requestedAt` annotation, source first. Raw objects are typed here, once,
into our frozen values.
"""

from __future__ import annotations

from typing import Any, cast

import urllib3
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from slackbot.adapters.transport import unreachable
from slackbot.errors import ClusterError, ClusterUnavailable
from slackbot.pipeline import FluxRef
from slackbot.ports import KustomizationStatus, Rollout

KS = ("kustomize.toolkit.fluxcd.io", "v1", "kustomizations")
GITREPO = ("source.toolkit.fluxcd.io", "v1", "gitrepositories")
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"


def json_object(obj: object) -> dict[str, Any]:
    """The kubernetes client types custom objects as `object`; they are decoded JSON objects."""
    return dict(cast("dict[str, Any]", obj))


def api_client(host: str | None) -> k8s.ApiClient:
    """A client for KUBE_API_URL, else in-cluster config, else KUBECONFIG."""
    from kubernetes import config as kube_config

    if host:
        configuration = k8s.Configuration()
        configuration.host = host.rstrip("/")
        return k8s.ApiClient(configuration)
    # kubernetes.config is unannotated although the package ships py.typed.
    try:
        kube_config.load_incluster_config()  # type: ignore[no-untyped-call]
    except kube_config.ConfigException:
        kube_config.load_kube_config()  # type: ignore[no-untyped-call]
    return k8s.ApiClient()


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for cond in obj.get("status", {}).get("conditions", []) or []:
        if cond.get("type") == kind:
            return dict(cond)
    return None


def kustomization_status(obj: dict[str, Any]) -> KustomizationStatus:
    meta, spec, status = obj.get("metadata", {}), obj.get("spec", {}), obj.get("status", {}) or {}
    ready = condition(obj, "Ready") or {}
    reconciling = condition(obj, "Reconciling")
    namespace = meta.get("namespace", "flux-system")
    return KustomizationStatus(
        ref=FluxRef(meta.get("name", ""), namespace),
        ready=ready.get("status", "Unknown"),
        reason=ready.get("reason", ""),
        message=ready.get("message", "waiting to be reconciled" if not ready else ""),
        last_applied_revision=status.get("lastAppliedRevision"),
        last_attempted_revision=status.get("lastAttemptedRevision"),
        suspended=bool(spec.get("suspend", False)),
        reconciling=bool(reconciling and reconciling.get("status") == "True"),
        generation=int(meta.get("generation", 0)),
        observed_generation=int(status.get("observedGeneration", -1)),
        last_handled_reconcile_at=status.get("lastHandledReconcileAt"),
        depends_on=tuple(
            FluxRef(d["name"], d.get("namespace", namespace)) for d in spec.get("dependsOn", [])
        ),
    )


def rollout(deployment: dict[str, Any]) -> Rollout:
    """`kubectl rollout status`'s verdict on a Deployment dict (kubectl's rollout status rules)."""
    meta, spec, status = deployment["metadata"], deployment.get("spec", {}), deployment.get(
        "status", {}) or {}
    name, namespace = meta["name"], meta.get("namespace", "")
    desired = int(spec.get("replicas", 1))
    updated = int(status.get("updatedReplicas") or 0)
    replicas = int(status.get("replicas") or 0)
    ready = int(status.get("readyReplicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    progressing: dict[str, Any] = next(
        (c for c in status.get("conditions") or [] if c.get("type") == "Progressing"), {})
    failed = progressing.get("reason") == "ProgressDeadlineExceeded"
    if int(meta.get("generation", 0)) > int(status.get("observedGeneration") or 0):
        message, complete = "Waiting for deployment spec update to be observed...", False
    elif failed:
        message, complete = f'deployment "{name}" exceeded its progress deadline', False
    elif updated < desired:
        message = (f'Waiting for deployment "{name}" rollout to finish: {updated} out of '
                   f"{desired} new replicas have been updated...")
        complete = False
    elif replicas > updated:
        message = (f'Waiting for deployment "{name}" rollout to finish: {replicas - updated} old '
                   f"replicas are pending termination...")
        complete = False
    elif available < updated:
        message = (f'Waiting for deployment "{name}" rollout to finish: {available} of {updated} '
                   f"updated replicas are available...")
        complete = False
    else:
        message, complete = f'deployment "{name}" successfully rolled out', True
    return Rollout(name, namespace, desired, updated, ready, available, complete, failed, message)


@unreachable((urllib3.exceptions.HTTPError, OSError), ClusterUnavailable, "the Kubernetes API")
class KubeCluster:
    def __init__(self, api: k8s.ApiClient):
        self._custom = k8s.CustomObjectsApi(api)
        self._apps = k8s.AppsV1Api(api)
        self._version = k8s.VersionApi(api)

    def ping(self) -> bool:
        try:
            self._version.get_code()
        except ApiException as exc:
            raise ClusterError(f"the Kubernetes API answered {exc.status}") from exc
        return True

    def _get(self, kind: tuple[str, str, str], ref: FluxRef) -> dict[str, Any]:
        group, version, plural = kind
        try:
            obj = self._custom.get_namespaced_custom_object(group, version, ref.namespace, plural,
                                                            ref.name)
        except ApiException as exc:
            raise ClusterError(f"cannot read {plural} {ref}: {exc.status} {exc.reason}") from exc
        return json_object(obj)

    def kustomization(self, ref: FluxRef) -> KustomizationStatus:
        return kustomization_status(self._get(KS, ref))

    def source_revision(self, ref: FluxRef) -> str | None:
        artifact = self._get(GITREPO, ref).get("status", {}).get("artifact") or {}
        revision = artifact.get("revision")
        return str(revision) if revision else None

    def request_reconcile(self, kustomization: FluxRef, source: FluxRef, token: str) -> None:
        body = {"metadata": {"annotations": {REQUESTED_AT: token}}}
        for (group, version, plural), ref in ((GITREPO, source), (KS, kustomization)):
            try:
                self._custom.patch_namespaced_custom_object(group, version, ref.namespace, plural,
                                                            ref.name, body)
            except ApiException as exc:
                raise ClusterError(
                    f"cannot request a reconcile of {plural} {ref}: {exc.status} {exc.reason}"
                ) from exc

    def rollout(self, namespace: str, deployment: str) -> Rollout:
        try:
            obj = self._apps.read_namespaced_deployment(deployment, namespace)
        except ApiException as exc:
            raise ClusterError(
                f"cannot read deployment {namespace}/{deployment}: {exc.status} {exc.reason}"
            ) from exc
        return rollout(self._apps.api_client.sanitize_for_serialization(obj))
