"""Patches, generation, the status subresource and optimistic concurrency over HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from tests.kube.conftest import Cluster
from tests.kube.objects import KS_GROUP, VERSION, deployment, kustomization

ANNOTATION = "reconcile.fluxcd.io/requestedAt"


def _create_ks(cluster: Cluster) -> dict[str, Any]:
    return dict(
        cluster.custom.create_namespaced_custom_object(
            KS_GROUP, VERSION, "flux-system", "kustomizations", kustomization()
        )
    )


def _patch_ks(cluster: Cluster, body: Any, **kwargs: Any) -> dict[str, Any]:
    return dict(
        cluster.custom.patch_namespaced_custom_object(
            KS_GROUP, VERSION, "flux-system", "kustomizations", "myapp-dev", body, **kwargs
        )
    )


def test_merge_patch_annotation_leaves_generation(cluster: Cluster) -> None:
    created = _create_ks(cluster)
    patched = _patch_ks(cluster, {"metadata": {"annotations": {ANNOTATION: "t1"}}})
    assert patched["metadata"]["annotations"] == {ANNOTATION: "t1"}
    assert patched["metadata"]["generation"] == 1
    assert patched["metadata"]["resourceVersion"] != created["metadata"]["resourceVersion"]


def test_merge_patch_spec_change_bumps_generation(cluster: Cluster) -> None:
    _create_ks(cluster)
    patched = _patch_ks(cluster, {"spec": {"suspend": True}})
    assert patched["spec"]["suspend"] is True
    assert patched["metadata"]["generation"] == 2
    again = _patch_ks(cluster, {"spec": {"suspend": True}})
    assert again["metadata"]["generation"] == 2
    assert again["metadata"]["resourceVersion"] == patched["metadata"]["resourceVersion"]


def test_merge_patch_null_deletes_key(cluster: Cluster) -> None:
    _create_ks(cluster)
    patched = _patch_ks(cluster, {"spec": {"targetNamespace": None}})
    assert "targetNamespace" not in patched["spec"]


def test_json_patch_with_escaped_annotation_key(cluster: Cluster) -> None:
    _create_ks(cluster)
    _patch_ks(cluster, {"metadata": {"annotations": {"keep": "me"}}})
    ops = [
        {
            "op": "add",
            "path": "/metadata/annotations/reconcile.fluxcd.io~1requestedAt",
            "value": "t2",
        }
    ]
    patched = _patch_ks(cluster, ops, _content_type="application/json-patch+json")
    assert patched["metadata"]["annotations"] == {"keep": "me", ANNOTATION: "t2"}
    assert patched["metadata"]["generation"] == 1


def test_json_patch_add_fails_when_annotations_missing(cluster: Cluster) -> None:
    _create_ks(cluster)
    ops = [
        {
            "op": "add",
            "path": "/metadata/annotations/reconcile.fluxcd.io~1requestedAt",
            "value": "t",
        }
    ]
    with pytest.raises(ApiException) as err:
        _patch_ks(cluster, ops, _content_type="application/json-patch+json")
    assert err.value.status == 422
    assert json.loads(err.value.body)["reason"] == "Invalid"


def test_json_patch_test_op_guards_the_write(cluster: Cluster) -> None:
    _create_ks(cluster)
    ops = [
        {"op": "test", "path": "/spec/interval", "value": "9m"},
        {"op": "replace", "path": "/spec/interval", "value": "2m"},
    ]
    with pytest.raises(ApiException) as err:
        _patch_ks(cluster, ops, _content_type="application/json-patch+json")
    assert err.value.status == 422
    ops[0]["value"] = "1m"
    assert (
        _patch_ks(cluster, ops, _content_type="application/json-patch+json")["spec"]["interval"]
        == "2m"
    )


def test_strategic_merge_patch_merges_containers_by_name(cluster: Cluster) -> None:
    cluster.apps.create_namespaced_deployment("dev", deployment())
    body = {
        "spec": {
            "replicas": 3,
            "template": {
                "spec": {"containers": [{"name": "app", "image": "ghcr.io/example/myapp:2.0.0"}]}
            },
        }
    }
    patched = cluster.apps.patch_namespaced_deployment("myapp", "dev", body)
    containers = patched.spec.template.spec.containers
    assert [(c.name, c.image) for c in containers] == [
        ("app", "ghcr.io/example/myapp:2.0.0"),
        ("sidecar", "busybox:1.36"),
    ]
    assert containers[0].resources.requests == {"memory": "64Mi", "cpu": "100m"}
    assert patched.spec.replicas == 3
    assert patched.metadata.generation == 2


def test_strategic_merge_patch_delete_directive(cluster: Cluster) -> None:
    cluster.apps.create_namespaced_deployment("dev", deployment())
    body = {
        "spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}
    }
    patched = cluster.apps.patch_namespaced_deployment("myapp", "dev", body)
    assert [c.name for c in patched.spec.template.spec.containers] == ["app"]


def test_json_patch_on_deployment_with_list_body(cluster: Cluster) -> None:
    cluster.apps.create_namespaced_deployment("dev", deployment())
    patched = cluster.apps.patch_namespaced_deployment(
        "myapp", "dev", [{"op": "replace", "path": "/spec/replicas", "value": 2}]
    )
    assert patched.spec.replicas == 2


def test_strategic_merge_patch_on_crd_returns_415(cluster: Cluster) -> None:
    _create_ks(cluster)
    with pytest.raises(ApiException) as err:
        _patch_ks(
            cluster,
            {"spec": {"suspend": True}},
            _content_type="application/strategic-merge-patch+json",
        )
    assert err.value.status == 415
    body = json.loads(err.value.body)
    assert body["reason"] == "UnsupportedMediaType"
    assert "application/merge-patch+json" in body["message"]


def test_main_resource_ignores_status(cluster: Cluster) -> None:
    body = kustomization()
    body["status"] = {"lastAppliedRevision": "forged"}
    created = cluster.custom.create_namespaced_custom_object(
        KS_GROUP, VERSION, "flux-system", "kustomizations", body
    )
    assert "lastAppliedRevision" not in created["status"]
    patched = _patch_ks(cluster, {"status": {"lastAppliedRevision": "forged"}})
    assert "lastAppliedRevision" not in patched["status"]
    assert patched["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_status_subresource_ignores_everything_else(cluster: Cluster) -> None:
    _create_ks(cluster)
    body = {
        "spec": {"suspend": True},
        "metadata": {"labels": {"x": "y"}},
        "status": {"lastAppliedRevision": "dev@sha1:" + "a" * 40},
    }
    patched = cluster.custom.patch_namespaced_custom_object_status(
        KS_GROUP, VERSION, "flux-system", "kustomizations", "myapp-dev", body
    )
    assert patched["status"]["lastAppliedRevision"] == "dev@sha1:" + "a" * 40
    assert "suspend" not in patched["spec"]
    assert "x" not in (patched["metadata"].get("labels") or {})
    assert patched["metadata"]["generation"] == 1
    got = cluster.custom.get_namespaced_custom_object_status(
        KS_GROUP, VERSION, "flux-system", "kustomizations", "myapp-dev"
    )
    assert got["status"] == patched["status"]


def test_status_put_replaces_status_only(cluster: Cluster) -> None:
    created = _create_ks(cluster)
    body = dict(
        created,
        spec=dict(created["spec"], interval="9m"),
        status={"observedGeneration": 1, "lastAppliedRevision": "r"},
    )
    replaced = cluster.custom.replace_namespaced_custom_object_status(
        KS_GROUP, VERSION, "flux-system", "kustomizations", "myapp-dev", body
    )
    assert replaced["status"] == {"observedGeneration": 1, "lastAppliedRevision": "r"}
    assert replaced["spec"]["interval"] == "1m"


def test_deployment_status_through_typed_client(cluster: Cluster) -> None:
    cluster.apps.create_namespaced_deployment("dev", deployment())
    status = {
        "status": {
            "observedGeneration": 1,
            "replicas": 1,
            "readyReplicas": 1,
            "availableReplicas": 1,
            "updatedReplicas": 1,
        }
    }
    patched = cluster.apps.patch_namespaced_deployment_status("myapp", "dev", status)
    assert patched.status.ready_replicas == 1
    assert patched.metadata.generation == 1
    read = cluster.apps.read_namespaced_deployment_status("myapp", "dev")
    assert read.status.available_replicas == 1


def test_stale_resource_version_returns_409_conflict(cluster: Cluster) -> None:
    created = _create_ks(cluster)
    _patch_ks(cluster, {"metadata": {"annotations": {ANNOTATION: "t1"}}})
    stale = dict(created, spec=dict(created["spec"], interval="7m"))
    with pytest.raises(ApiException) as err:
        cluster.custom.replace_namespaced_custom_object(
            KS_GROUP, VERSION, "flux-system", "kustomizations", "myapp-dev", stale
        )
    assert err.value.status == 409
    body = json.loads(err.value.body)
    assert body["reason"] == "Conflict"
    assert body["message"] == (
        "Operation cannot be fulfilled on kustomizations.kustomize.toolkit.fluxcd.io "
        '"myapp-dev": the object has been modified; please apply your changes to the latest '
        "version and try again"
    )
    with pytest.raises(ApiException) as merge_err:
        _patch_ks(
            cluster,
            {
                "metadata": {"resourceVersion": created["metadata"]["resourceVersion"]},
                "spec": {"interval": "7m"},
            },
        )
    assert merge_err.value.status == 409


def test_current_resource_version_write_succeeds(cluster: Cluster) -> None:
    _create_ks(cluster)
    current = _patch_ks(cluster, {"metadata": {"annotations": {ANNOTATION: "t1"}}})
    current["spec"]["interval"] = "7m"
    replaced = cluster.custom.replace_namespaced_custom_object(
        KS_GROUP, VERSION, "flux-system", "kustomizations", "myapp-dev", current
    )
    assert replaced["spec"]["interval"] == "7m"
