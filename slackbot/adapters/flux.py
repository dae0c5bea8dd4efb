"""The Cluster port on Kubernetes and Flux, through the kubernetes client.

Reads Kustomizations, GitRepositories and Deployments, and requests reconciles the way
`flux reconcile kustomization --with-source` does: a merge-patch of the
`reconcile.fluxcd.io/requestedAt` annotation, of the source or of the Kustomization (the
engine asks the Kustomization once the source has the new artifact). Raw objects are typed
here, once, into our frozen values.

Every call has a connect and a read timeout, and is retried by policy when the API itself
fails (no answer, a 5xx, a 429): exponential backoff with jitter and a cap
(slackbot/adapters/backoff.py), each failed attempt and each answer told to the outage board
the cards read. urllib3's own silent retries are off, so the policy is the only one. What
is left failing after the retries is ClusterUnavailable; any other answer is a ClusterError.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar, cast

import urllib3
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from slackbot.adapters import backoff
from slackbot.adapters.transport import unreachable
from slackbot.config.meaning import parse_duration
from slackbot.errors import ClusterError, ClusterUnavailable
from slackbot.outages import OutageBoard, Problem, Service
from slackbot.pipeline import FluxRef
from slackbot.ports import KustomizationStatus, Rollout

T = TypeVar("T")

KS = ("kustomize.toolkit.fluxcd.io", "v1", "kustomizations")
GITREPO = ("source.toolkit.fluxcd.io", "v1", "gitrepositories")
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"


def json_object(obj: object) -> dict[str, Any]:
    """The kubernetes client types custom objects as `object`; they are decoded JSON objects."""
    return dict(cast("dict[str, Any]", obj))


TIMEOUTS = (3.05, 10.0)  # seconds to connect, and to read an answer, per request
PING_TIMEOUTS = (1.0, 1.5)  # /readyz answers within 2 s whatever hangs behind it
RETRYABLE_STATUS = frozenset({500, 502, 503, 504})


def api_client(host: str | None, *, token: str | None = None, token_file: str | None = None,
               ca_file: str | None = None, context: str | None = None,
               connections: int | None = None) -> k8s.ApiClient:
    """A client for an API URL (and bearer token), else a kubeconfig context, else the
    in-cluster config, else KUBECONFIG's current context. urllib3 retries nothing itself;
    `connections` kept alive (the client's default: five per CPU)."""
    from kubernetes import config as kube_config

    configuration = k8s.Configuration()
    if host:
        configuration.host = host.rstrip("/")
        if token:
            configuration.api_key = {"authorization": f"Bearer {token}"}
        if token_file:
            _bearer_from_file(configuration, token_file)
        if ca_file:
            configuration.ssl_ca_cert = ca_file
    elif context:
        kube_config.load_kube_config(  # type: ignore[no-untyped-call]  # unannotated
            context=context, client_configuration=configuration)
    else:
        # kubernetes.config is unannotated although the package ships py.typed.
        try:
            kube_config.load_incluster_config(  # type: ignore[no-untyped-call]
                client_configuration=configuration)
        except kube_config.ConfigException:
            kube_config.load_kube_config(  # type: ignore[no-untyped-call]
                client_configuration=configuration)
    configuration.retries = False  # the backoff policy retries, with backoff, and counts
    if connections is not None:
        configuration.connection_pool_maxsize = connections
    return k8s.ApiClient(configuration)


def _bearer_from_file(configuration: k8s.Configuration, path: str) -> None:
    """Send the token the file holds, read again whenever the file changes (the kubelet
    rotates projected service account tokens; a rotated Secret is remounted)."""
    seen: dict[str, float] = {}

    def refresh(config: k8s.Configuration) -> None:
        mtime = os.stat(path).st_mtime
        if seen.get("mtime") != mtime:
            with open(path, encoding="utf-8") as handle:
                config.api_key = {"authorization": f"Bearer {handle.read().strip()}"}
            seen["mtime"] = mtime

    refresh(configuration)
    configuration.refresh_api_key_hook = refresh  # type: ignore[assignment]  # typed None


def problem(exc: BaseException) -> Problem | None:
    """The API failing (retry, and tell the board), or None for an answer (raise it)."""
    if isinstance(exc, ApiException):
        if exc.status == 429:
            return Problem.RATE_LIMITED
        if exc.status in RETRYABLE_STATUS or not exc.status:
            return Problem.ERRORS
        return None
    if isinstance(exc, urllib3.exceptions.HTTPError | OSError):
        return Problem.UNREACHABLE
    return None


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for cond in obj.get("status", {}).get("conditions", []) or []:
        if cond.get("type") == kind:
            return dict(cond)
    return None


def kustomization_status(obj: dict[str, Any], cluster: str | None = None) -> KustomizationStatus:
    """The status of a Kustomization object of `cluster` (its name in the pipeline)."""
    meta, spec, status = obj.get("metadata", {}), obj.get("spec", {}), obj.get("status", {}) or {}
    ready = condition(obj, "Ready") or {}
    reconciling = condition(obj, "Reconciling")
    namespace = meta.get("namespace", "flux-system")
    return KustomizationStatus(
        ref=FluxRef(meta.get("name", ""), namespace, cluster),
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
            FluxRef(d["name"], d.get("namespace", namespace), cluster)
            for d in spec.get("dependsOn", [])
        ),
        timeout=flux_timeout(spec),
        requested_at=(meta.get("annotations") or {}).get(REQUESTED_AT),
    )


def flux_timeout(spec: dict[str, Any]) -> timedelta | None:
    """How long kustomize-controller gives one reconcile and its health check: spec.timeout,
    else spec.interval (its GetTimeout); None when neither reads as a duration."""
    for key in ("timeout", "interval"):
        text = spec.get(key)
        if isinstance(text, str) and text:
            try:
                return parse_duration(text)
            except ValueError:
                return None
    return None


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
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    images = tuple(str(c["image"]) for c in containers if c.get("image"))
    return Rollout(name, namespace, desired, updated, ready, available, complete, failed, message,
                   images)


@unreachable((urllib3.exceptions.HTTPError, OSError), ClusterUnavailable, "the Kubernetes API")
class KubeCluster:
    def __init__(self, api: k8s.ApiClient, *, outages: OutageBoard | None = None,
                 policy: backoff.Policy = backoff.DEFAULT, name: str | None = None,
                 timeouts: tuple[float, float] = TIMEOUTS,
                 sleep: Callable[[float], None] = time.sleep):
        self._custom = k8s.CustomObjectsApi(api)
        self._apps = k8s.AppsV1Api(api)
        self._version = k8s.VersionApi(api)
        self._outages = outages
        self._policy = policy
        self._timeouts = timeouts
        self._sleep = sleep
        self.name = name  # the cluster's name in the pipeline (None: the default cluster)

    def ping(self) -> bool:
        """One quick request, no retry (the readiness probe asks every few seconds)."""
        try:
            self._version.get_code(_request_timeout=PING_TIMEOUTS)
        except ApiException as exc:
            raise ClusterError(f"the Kubernetes API answered {exc.status}") from exc
        return True

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return backoff.call(fn, self._policy, problem, self._outages, Service.KUBERNETES,
                                self.name, self._sleep)
        except ApiException as exc:
            if problem(exc) is not None:
                raise ClusterUnavailable(
                    f"the Kubernetes API answered {exc.status} to {what}") from exc
            raise ClusterError(f"cannot {what}: {exc.status} {exc.reason}") from exc

    def _get(self, kind: tuple[str, str, str], ref: FluxRef) -> dict[str, Any]:
        group, version, plural = kind
        obj = self._call(f"read {plural} {ref}", lambda: self._custom.get_namespaced_custom_object(
            group, version, ref.namespace, plural, ref.name, _request_timeout=self._timeouts))
        return json_object(obj)

    def kustomization(self, ref: FluxRef) -> KustomizationStatus:
        return kustomization_status(self._get(KS, ref), self.name)

    def source_revision(self, ref: FluxRef) -> str | None:
        artifact = self._get(GITREPO, ref).get("status", {}).get("artifact") or {}
        revision = artifact.get("revision")
        return str(revision) if revision else None

    def request_source_reconcile(self, source: FluxRef, token: str) -> None:
        self._annotate(GITREPO, source, token)

    def request_kustomization_reconcile(self, kustomization: FluxRef, token: str) -> None:
        self._annotate(KS, kustomization, token)

    def request_reconcile(self, kustomization: FluxRef, source: FluxRef, token: str) -> None:
        """Both at once, source first (what a one-off request without waiting does)."""
        self.request_source_reconcile(source, token)
        self.request_kustomization_reconcile(kustomization, token)

    def _annotate(self, kind: tuple[str, str, str], ref: FluxRef, token: str) -> None:
        # a merge patch of one annotation: the same outcome however often it is sent
        group, version, plural = kind
        body = {"metadata": {"annotations": {REQUESTED_AT: token}}}
        self._call(f"request a reconcile of {plural} {ref}",
                   lambda: self._custom.patch_namespaced_custom_object(
                       group, version, ref.namespace, plural, ref.name, body,
                       _request_timeout=self._timeouts))

    def rollout(self, namespace: str, deployment: str, cluster: str | None = None) -> Rollout:
        # The answer's JSON as it came: the client's V1Deployment models, turned back into a
        # dict, cost 0.56 ms of interpreter time for a small Deployment, 80 times the decoding.
        what = f"read deployment {namespace}/{deployment}"

        def read() -> bytes:
            answer = self._apps.read_namespaced_deployment(
                deployment, namespace, _request_timeout=self._timeouts, _preload_content=False)
            return cast("urllib3.BaseHTTPResponse", answer).data

        data = self._call(what, read)
        try:
            return rollout(json_object(json.loads(data)))
        except (ValueError, TypeError, KeyError) as exc:
            raise ClusterError(f"cannot {what}: the answer is not a Deployment") from exc
