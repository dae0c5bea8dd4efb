"""CRUD and lists through the real kubernetes client against the emulated apiserver."""

from __future__ import annotations

import json

import pytest
from kubernetes.client.exceptions import ApiException

from tests.kube.conftest import Cluster
from tests.kube.objects import (
    KS_GROUP,
    SOURCE_GROUP,
    VERSION,
    deployment,
    git_repository,
    kustomization,
    pod,
    staging_kustomization,
)


def _status(err: ApiException) -> dict[str, object]:
    return dict(json.loads(err.body))


def test_custom_object_create_get_list_delete_roundtrip(cluster: Cluster) -> None:
    custom = cluster.custom
    created = custom.create_namespaced_custom_object(
        KS_GROUP, VERSION, "flux-system", "kustomizations", kustomization()
    )
    meta = created["metadata"]
    assert meta["generation"] == 1
    assert meta["uid"] and meta["creationTimestamp"].endswith("Z")
    assert created["status"] == {"observedGeneration": -1}  # the CRD's status default
    got = custom.get_namespaced_custom_object(
        KS_GROUP, VERSION, "flux-system", "kustomizations", "myapp-dev"
    )
    assert got == created
    listed = custom.list_namespaced_custom_object(
        KS_GROUP, VERSION, "flux-system", "kustomizations"
    )
    assert listed["kind"] == "KustomizationList"
    assert [i["metadata"]["name"] for i in listed["items"]] == ["myapp-dev"]
    assert int(listed["metadata"]["resourceVersion"]) >= int(meta["resourceVersion"])
    deleted = custom.delete_namespaced_custom_object(
        KS_GROUP, VERSION, "flux-system", "kustomizations", "myapp-dev"
    )
    assert deleted["metadata"]["name"] == "myapp-dev"
    with pytest.raises(ApiException) as err:
        custom.get_namespaced_custom_object(
            KS_GROUP, VERSION, "flux-system", "kustomizations", "myapp-dev"
        )
    assert err.value.status == 404


def test_get_missing_object_returns_404_status(cluster: Cluster) -> None:
    with pytest.raises(ApiException) as err:
        cluster.custom.get_namespaced_custom_object(
            KS_GROUP, VERSION, "flux-system", "kustomizations", "nope"
        )
    assert err.value.status == 404
    body = _status(err.value)
    assert body["kind"] == "Status" and body["status"] == "Failure"
    assert body["reason"] == "NotFound" and body["code"] == 404
    assert body["message"] == 'kustomizations.kustomize.toolkit.fluxcd.io "nope" not found'
    assert body["details"] == {"name": "nope", "group": KS_GROUP, "kind": "kustomizations"}


def test_create_twice_returns_409_already_exists(cluster: Cluster) -> None:
    cluster.custom.create_namespaced_custom_object(
        SOURCE_GROUP, VERSION, "flux-system", "gitrepositories", git_repository()
    )
    with pytest.raises(ApiException) as err:
        cluster.custom.create_namespaced_custom_object(
            SOURCE_GROUP, VERSION, "flux-system", "gitrepositories", git_repository()
        )
    assert err.value.status == 409
    assert _status(err.value)["reason"] == "AlreadyExists"
    assert (
        _status(err.value)["message"]
        == 'gitrepositories.source.toolkit.fluxcd.io "myapp-dev" already exists'
    )


def test_create_in_missing_namespace_returns_404(cluster: Cluster) -> None:
    body = kustomization()
    body["metadata"]["namespace"] = "ghost"
    with pytest.raises(ApiException) as err:
        cluster.custom.create_namespaced_custom_object(
            KS_GROUP, VERSION, "ghost", "kustomizations", body
        )
    assert err.value.status == 404
    assert _status(err.value)["message"] == 'namespaces "ghost" not found'


def test_list_all_namespaces_and_label_selectors(cluster: Cluster) -> None:
    custom = cluster.custom
    for obj in (kustomization(), staging_kustomization()):
        custom.create_namespaced_custom_object(
            KS_GROUP, VERSION, "flux-system", "kustomizations", obj
        )
    names = lambda result: [i["metadata"]["name"] for i in result["items"]]  # noqa: E731
    assert names(custom.list_cluster_custom_object(KS_GROUP, VERSION, "kustomizations")) == [
        "myapp-dev",
        "myapp-staging",
    ]
    assert names(
        custom.list_cluster_custom_object(
            KS_GROUP, VERSION, "kustomizations", label_selector="env=staging"
        )
    ) == ["myapp-staging"]
    assert names(
        custom.list_namespaced_custom_object(
            KS_GROUP,
            VERSION,
            "flux-system",
            "kustomizations",
            label_selector="app=myapp,env in (dev, prod)",
        )
    ) == ["myapp-dev"]
    assert names(
        custom.list_namespaced_custom_object(
            KS_GROUP, VERSION, "flux-system", "kustomizations", label_selector="env!=dev"
        )
    ) == ["myapp-staging"]
    assert names(
        custom.list_namespaced_custom_object(
            KS_GROUP,
            VERSION,
            "flux-system",
            "kustomizations",
            field_selector="metadata.name=myapp-dev",
        )
    ) == ["myapp-dev"]
    assert (
        names(custom.list_namespaced_custom_object(KS_GROUP, VERSION, "dev", "kustomizations"))
        == []
    )


def test_bad_label_selector_returns_400(cluster: Cluster) -> None:
    with pytest.raises(ApiException) as err:
        cluster.custom.list_cluster_custom_object(
            KS_GROUP, VERSION, "kustomizations", label_selector="env in (dev"
        )
    assert err.value.status == 400
    assert _status(err.value)["reason"] == "BadRequest"


def test_unsupported_field_selector_returns_400(cluster: Cluster) -> None:
    with pytest.raises(ApiException) as err:
        cluster.custom.list_cluster_custom_object(
            KS_GROUP, VERSION, "kustomizations", field_selector="spec.path=x"
        )
    assert err.value.status == 400
    assert _status(err.value)["message"] == "field label not supported: spec.path"


def test_deployment_and_pods_through_typed_clients(cluster: Cluster) -> None:
    created = cluster.apps.create_namespaced_deployment("dev", deployment())
    assert created.metadata.generation == 1
    assert created.spec.strategy.type == "RollingUpdate"
    assert created.spec.template.spec.containers[0].image_pull_policy == "IfNotPresent"
    for index in range(2):
        cluster.core.create_namespaced_pod("dev", pod(f"myapp-{index}"))
    cluster.core.create_namespaced_pod("dev", pod("other-0", app="other"))
    pods = cluster.core.list_namespaced_pod("dev", label_selector="app=myapp")
    assert [p.metadata.name for p in pods.items] == ["myapp-0", "myapp-1"]
    assert pods.items[0].status.phase == "Pending"
    got = cluster.apps.read_namespaced_deployment("myapp", "dev")
    assert got.spec.selector.match_labels == {"app": "myapp"}
    listed = cluster.apps.list_namespaced_deployment("dev")
    assert [d.metadata.name for d in listed.items] == ["myapp"]
    status = cluster.apps.delete_namespaced_deployment("myapp", "dev")
    assert status["status"] == "Success"
    assert cluster.apps.list_namespaced_deployment("dev").items == []


def test_namespaces_cluster_scoped(cluster: Cluster) -> None:
    names = [n.metadata.name for n in cluster.core.list_namespace().items]
    assert names == ["dev", "flux-system", "prod", "staging"]
    assert cluster.core.read_namespace("dev").status.phase == "Active"


def test_list_pages_with_limit_and_continue(cluster: Cluster) -> None:
    for index in range(5):
        cluster.core.create_namespaced_pod("dev", pod(f"p-{index}"))
    first = cluster.core.list_namespaced_pod("dev", limit=2)
    assert [p.metadata.name for p in first.items] == ["p-0", "p-1"]
    assert first.metadata.remaining_item_count == 3
    second = cluster.core.list_namespaced_pod("dev", limit=2, _continue=first.metadata._continue)
    assert [p.metadata.name for p in second.items] == ["p-2", "p-3"]


def test_replace_keeps_identity_and_bumps_resource_version(cluster: Cluster) -> None:
    created = cluster.custom.create_namespaced_custom_object(
        KS_GROUP, VERSION, "flux-system", "kustomizations", kustomization()
    )
    body = dict(created)
    body["spec"] = dict(created["spec"], interval="5m")
    body["metadata"] = dict(created["metadata"], uid="forged")
    replaced = cluster.custom.replace_namespaced_custom_object(
        KS_GROUP, VERSION, "flux-system", "kustomizations", "myapp-dev", body
    )
    assert replaced["spec"]["interval"] == "5m"
    assert replaced["metadata"]["uid"] == created["metadata"]["uid"]
    assert int(replaced["metadata"]["resourceVersion"]) > int(
        created["metadata"]["resourceVersion"]
    )
    assert replaced["metadata"]["generation"] == 2
