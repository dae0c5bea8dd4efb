"""The bot's identity on the real API server: the ServiceAccount, ClusterRole, Role and
bindings the Helm chart renders (rendered by real Helm through tests/deploy/chart.py), applied
as they are, and a real service-account token minted for it through the TokenRequest API.

`without_verb` makes the same objects minus one verb, to show that the bot then fails.
"""

from __future__ import annotations

import copy
from typing import Any

import kubernetes.client
from kubernetes.client.exceptions import ApiException

from tests.deploy.chart import NAMESPACE, documents, render
from tests.realflux.fluxobjects import ensure_namespace
from tests.waiting import wait_for

RBAC_KINDS = ("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
Doc = dict[str, Any]


def chart_identity(fullname: str | None = None) -> list[Doc]:
    """The chart's ServiceAccount and RBAC objects (every name prefixed by `fullname`)."""
    values = {"fullnameOverride": fullname} if fullname else None
    return [d for d in documents(render(values)) if d["kind"] in RBAC_KINDS]


def without_verb(docs: list[Doc], resource: str, verb: str) -> list[Doc]:
    """A copy of `docs` whose roles no longer grant `verb` on `resource`."""
    changed = copy.deepcopy(docs)
    for doc in changed:
        for rule in doc.get("rules") or []:
            if resource in rule["resources"]:
                rule["verbs"] = [v for v in rule["verbs"] if v != verb]
    return changed


def apply(api: kubernetes.client.ApiClient, docs: list[Doc]) -> None:
    """Creates each object as the chart would install it (namespaced ones in NAMESPACE)."""
    core, rbac = kubernetes.client.CoreV1Api(api), kubernetes.client.RbacAuthorizationV1Api(api)
    ensure_namespace(api, NAMESPACE)
    for doc in docs:
        namespace = doc["metadata"].get("namespace", NAMESPACE)
        create = {
            "ServiceAccount": lambda d, ns=namespace: core.create_namespaced_service_account(
                ns, d),
            "ClusterRole": rbac.create_cluster_role,
            "ClusterRoleBinding": rbac.create_cluster_role_binding,
            "Role": lambda d, ns=namespace: rbac.create_namespaced_role(ns, d),
            "RoleBinding": lambda d, ns=namespace: rbac.create_namespaced_role_binding(ns, d),
        }[doc["kind"]]
        try:
            create(doc)
        except ApiException as exc:
            raise AssertionError(f"cannot apply {doc['kind']}/{doc['metadata']['name']}: "
                                 f"{exc.status} {exc.body}") from exc


def service_account(docs: list[Doc]) -> str:
    (account,) = (d for d in docs if d["kind"] == "ServiceAccount")
    return str(account["metadata"]["name"])


def mint_token(api: kubernetes.client.ApiClient, docs: list[Doc], seconds: int = 3600) -> str:
    """A bound service-account token, as the kubelet projects into the bot's pod."""
    answer = kubernetes.client.CoreV1Api(api).create_namespaced_service_account_token(
        service_account(docs), NAMESPACE, {"spec": {"expirationSeconds": seconds}})
    return str(answer.status.token)


def can(api: kubernetes.client.ApiClient, verb: str, group: str, resource: str,
        namespace: str | None) -> bool:
    """SelfSubjectAccessReview: may the caller do this? (the authorizer's own answer)."""
    review = kubernetes.client.AuthorizationV1Api(api).create_self_subject_access_review({
        "spec": {"resourceAttributes": {"verb": verb, "group": group, "resource": resource,
                                        **({"namespace": namespace} if namespace else {})}}})
    return bool(review.status.allowed)


def grants(docs: list[Doc]) -> list[tuple[str, str, str, str | None]]:
    """(verb, group, resource, namespace or None for cluster-wide) for every granted verb."""
    found = []
    for doc in docs:
        if doc["kind"] not in ("ClusterRole", "Role"):
            continue
        namespace = doc["metadata"].get("namespace") if doc["kind"] == "Role" else None
        for rule in doc["rules"]:
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    found.extend((v, group, resource, namespace) for v in rule["verbs"])
    return found


def wait_effective(bot: kubernetes.client.ApiClient, docs: list[Doc]) -> None:
    """Until the authorizer (it reads RBAC objects through a cache) allows every grant."""
    pending = grants(docs)
    wait_for(lambda: all(can(bot, *grant) for grant in pending),
             "the chart's RBAC to take effect for the bot", timeout=60)
