"""Flux objects validate against the real CRDs; invalid ones get 422 as from the apiserver."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from sandbox.kube import admission, crds
from tests.kube.conftest import Cluster, raw_request
from tests.kube.objects import (
    KS_GROUP,
    SOURCE_GROUP,
    VERSION,
    deployment,
    git_repository,
    kustomization,
    valid_flux_objects,
)

PLURALS = {"Kustomization": "kustomizations", "GitRepository": "gitrepositories"}


def _create_ks(cluster: Cluster, body: dict[str, Any]) -> dict[str, Any]:
    return dict(
        cluster.custom.create_namespaced_custom_object(
            KS_GROUP, VERSION, "flux-system", "kustomizations", body
        )
    )


def test_crds_load_from_package_data() -> None:
    assert str(crds.CRD_DIR).endswith("sandbox/kube/crds")
    loaded = crds.load_crds()
    assert set(loaded) == {"kustomizations", "gitrepositories"}
    assert loaded["kustomizations"]["spec"]["group"] == KS_GROUP
    assert crds.schema_for("kustomizations") is not None
    assert crds.schema_for("kustomizations", "v1beta2") is None


@pytest.mark.parametrize(
    "obj", valid_flux_objects(), ids=lambda o: f"{o['kind']}-{o['metadata']['name']}"
)
def test_every_flux_object_used_in_tests_passes_the_crd(obj: dict[str, Any]) -> None:
    body = json.loads(json.dumps(obj))
    admission.apply_defaults(PLURALS[obj["kind"]], body, creating=True)
    assert admission.causes(PLURALS[obj["kind"]], body) == []


@pytest.mark.parametrize(
    "obj", valid_flux_objects(), ids=lambda o: f"{o['kind']}-{o['metadata']['name']}"
)
def test_every_flux_object_used_in_tests_is_accepted(cluster: Cluster, obj: dict[str, Any]) -> None:
    group = obj["apiVersion"].split("/")[0]
    created = cluster.custom.create_namespaced_custom_object(
        group, VERSION, "flux-system", PLURALS[obj["kind"]], obj
    )
    assert created["spec"]["interval"] == obj["spec"]["interval"]


def test_invalid_interval_returns_422_in_apiserver_words(cluster: Cluster) -> None:
    with pytest.raises(ApiException) as err:
        _create_ks(cluster, kustomization(interval="five"))
    assert err.value.status == 422
    body = json.loads(err.value.body)
    assert body["reason"] == "Invalid"
    assert body["message"] == (
        'Kustomization.kustomize.toolkit.fluxcd.io "myapp-dev" is invalid: spec.interval: '
        'Invalid value: "five": spec.interval in body should match '
        "'^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$'"
    )
    assert body["details"]["kind"] == "Kustomization"
    assert body["details"]["group"] == KS_GROUP
    assert body["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "field": "spec.interval",
            "message": 'Invalid value: "five": spec.interval in body should match '
            "'^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$'",
        }
    ]


def test_kustomization_missing_required_fields_lists_each(cluster: Cluster) -> None:
    body = kustomization()
    del body["spec"]["prune"]
    body["spec"]["sourceRef"] = {"kind": "HelmChart", "name": "x"}
    with pytest.raises(ApiException) as err:
        _create_ks(cluster, body)
    message = json.loads(err.value.body)["message"]
    assert "spec.prune: Required value" in message
    assert (
        'spec.sourceRef.kind: Unsupported value: "HelmChart": supported values: '
        '"OCIRepository", "GitRepository", "Bucket", "ExternalArtifact"' in message
    )
    assert message.startswith('Kustomization.kustomize.toolkit.fluxcd.io "myapp-dev" is invalid: [')


def test_kustomization_wrong_types_and_lengths(cluster: Cluster) -> None:
    with pytest.raises(ApiException) as err:
        _create_ks(cluster, kustomization(prune="yes", targetNamespace="x" * 64))
    message = json.loads(err.value.body)["message"]
    assert (
        'spec.prune: Invalid value: "string": spec.prune in body must be of type boolean: '
        '"string"' in message
    )
    assert "spec.targetNamespace: Too long: may not be more than 63 bytes" in message


def test_kustomization_cel_rule_on_kube_config(cluster: Cluster) -> None:
    with pytest.raises(ApiException) as err:
        _create_ks(cluster, kustomization(kubeConfig={}))
    message = json.loads(err.value.body)["message"]
    assert (
        'spec.kubeConfig: Invalid value: "object": exactly one of '
        "spec.kubeConfig.configMapRef or spec.kubeConfig.secretRef must be specified" in message
    )


def test_invalid_git_repository_returns_422(cluster: Cluster) -> None:
    body = git_repository()
    body["spec"]["url"] = "git@github.com:example/myapp.git"
    with pytest.raises(ApiException) as err:
        cluster.custom.create_namespaced_custom_object(
            SOURCE_GROUP, VERSION, "flux-system", "gitrepositories", body
        )
    assert err.value.status == 422
    assert json.loads(err.value.body)["message"] == (
        'GitRepository.source.toolkit.fluxcd.io "myapp-dev" is invalid: spec.url: Invalid '
        'value: "git@github.com:example/myapp.git": spec.url in body should match '
        "'^(http|https|ssh)://.*$'"
    )


def test_git_repository_cel_rule_on_service_account(cluster: Cluster) -> None:
    body = git_repository()
    body["spec"]["serviceAccountName"] = "sa"
    with pytest.raises(ApiException) as err:
        cluster.custom.create_namespaced_custom_object(
            SOURCE_GROUP, VERSION, "flux-system", "gitrepositories", body
        )
    assert (
        "serviceAccountName can only be set when provider is 'azure' or 'aws'"
        in json.loads(err.value.body)["message"]
    )


def test_crd_defaults_applied_and_unknown_fields_pruned(cluster: Cluster) -> None:
    body = git_repository()
    body["spec"]["notAField"] = True
    created = cluster.custom.create_namespaced_custom_object(
        SOURCE_GROUP, VERSION, "flux-system", "gitrepositories", body
    )
    assert created["spec"]["timeout"] == "60s"
    assert "notAField" not in created["spec"]
    assert created["status"] == {"observedGeneration": -1}


def test_invalid_patch_is_refused_and_changes_nothing(cluster: Cluster) -> None:
    created = _create_ks(cluster, kustomization())
    with pytest.raises(ApiException) as err:
        cluster.custom.patch_namespaced_custom_object(
            KS_GROUP,
            VERSION,
            "flux-system",
            "kustomizations",
            "myapp-dev",
            {"spec": {"interval": "soon"}},
        )
    assert err.value.status == 422
    got = cluster.custom.get_namespaced_custom_object(
        KS_GROUP, VERSION, "flux-system", "kustomizations", "myapp-dev"
    )
    assert got == created


def test_invalid_status_is_refused(cluster: Cluster) -> None:
    _create_ks(cluster, kustomization())
    with pytest.raises(ApiException) as err:
        cluster.custom.patch_namespaced_custom_object_status(
            KS_GROUP,
            VERSION,
            "flux-system",
            "kustomizations",
            "myapp-dev",
            {"status": {"conditions": [{"type": "Ready", "status": "Maybe"}]}},
        )
    assert err.value.status == 422
    message = json.loads(err.value.body)["message"]
    assert "status.conditions[0].lastTransitionTime: Required value" in message
    assert 'status.conditions[0].status: Unsupported value: "Maybe"' in message


def test_invalid_name_returns_422(cluster: Cluster) -> None:
    with pytest.raises(ApiException) as err:
        _create_ks(cluster, kustomization(name="Not_Valid"))
    assert err.value.status == 422
    assert (
        'metadata.name: Invalid value: "Not_Valid": a lowercase RFC 1123 subdomain'
        in json.loads(err.value.body)["message"]
    )


def test_deployment_without_selector_or_container_name_returns_422(cluster: Cluster) -> None:
    body = deployment()
    del body["spec"]["selector"]
    del body["spec"]["template"]["spec"]["containers"][0]["name"]
    # The python client refuses such a body itself, so it goes over plain HTTP.
    code, body_json = raw_request(
        cluster.server.url,
        "POST",
        "/apis/apps/v1/namespaces/dev/deployments",
        json.dumps(body).encode(),
    )
    assert code == 422
    assert body_json["reason"] == "Invalid"
    assert body_json["message"] == (
        'Deployment.apps "myapp" is invalid: [spec.selector: Required value, '
        "spec.template.spec.containers[0].name: Required value]"
    )


def test_deployment_selector_must_match_template(cluster: Cluster) -> None:
    body = deployment()
    body["spec"]["selector"] = {"matchLabels": {"app": "other"}}
    with pytest.raises(ApiException) as err:
        cluster.apps.create_namespaced_deployment("dev", body)
    assert "`selector` does not match template `labels`" in json.loads(err.value.body)["message"]
