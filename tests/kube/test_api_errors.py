"""Bad input gets the apiserver's status codes and Status bodies, and never crashes the server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from tests.kube.conftest import Cluster, raw_request
from tests.kube.objects import KS_GROUP, VERSION, kustomization

KS_PATH = f"/apis/{KS_GROUP}/{VERSION}/namespaces/flux-system/kustomizations"


def _request(
    cluster: Cluster,
    method: str,
    path: str,
    body: bytes | None = None,
    content_type: str | None = "application/json",
) -> tuple[int, dict[str, Any]]:
    return raw_request(cluster.server.url, method, path, body, content_type)


def _assert_status(body: dict[str, Any], code: int, reason: str) -> None:
    assert body["kind"] == "Status" and body["apiVersion"] == "v1"
    assert body["status"] == "Failure"
    assert body["code"] == code and body["reason"] == reason
    assert isinstance(body["message"], str) and body["message"]


def test_malformed_json_returns_400(cluster: Cluster) -> None:
    code, body = _request(cluster, "POST", KS_PATH, b'{"metadata": ')
    assert code == 400
    _assert_status(body, 400, "BadRequest")
    assert body["message"].startswith("couldn't get version/kind; json parse error")


def test_malformed_patch_returns_400(cluster: Cluster) -> None:
    cluster.custom.create_namespaced_custom_object(
        KS_GROUP, VERSION, "flux-system", "kustomizations", kustomization()
    )
    code, body = _request(
        cluster, "PATCH", f"{KS_PATH}/myapp-dev", b"{nope", "application/merge-patch+json"
    )
    assert code == 400
    _assert_status(body, 400, "BadRequest")


def test_merge_patch_with_list_body_returns_400(cluster: Cluster) -> None:
    cluster.custom.create_namespaced_custom_object(
        KS_GROUP, VERSION, "flux-system", "kustomizations", kustomization()
    )
    with pytest.raises(ApiException) as err:
        cluster.custom.patch_namespaced_custom_object(
            KS_GROUP,
            VERSION,
            "flux-system",
            "kustomizations",
            "myapp-dev",
            [{"op": "replace", "path": "/spec/suspend", "value": True}],
        )
    assert err.value.status == 400


def test_unknown_resource_returns_404(cluster: Cluster) -> None:
    with pytest.raises(ApiException) as err:
        cluster.custom.list_namespaced_custom_object(KS_GROUP, VERSION, "dev", "widgets")
    assert err.value.status == 404
    body = json.loads(err.value.body)
    _assert_status(body, 404, "NotFound")
    assert body["message"] == "the server could not find the requested resource"
    for path in (
        "/apis/example.com/v1/widgets",
        "/apis/apps/v2/deployments",
        "/nope",
        f"/apis/{KS_GROUP}/v1beta2/kustomizations",
        "/api/v1/namespaces/dev/pods/a/b/c",
    ):
        code, body = _request(cluster, "GET", path)
        assert code == 404, path
        _assert_status(body, 404, "NotFound")


def test_wrong_content_type_returns_415(cluster: Cluster) -> None:
    code, body = _request(
        cluster, "POST", KS_PATH, json.dumps(kustomization()).encode(), "text/plain"
    )
    assert code == 415
    _assert_status(body, 415, "UnsupportedMediaType")
    cluster.custom.create_namespaced_custom_object(
        KS_GROUP, VERSION, "flux-system", "kustomizations", kustomization()
    )
    code, body = _request(cluster, "PATCH", f"{KS_PATH}/myapp-dev", b"{}", "application/json")
    assert code == 415
    _assert_status(body, 415, "UnsupportedMediaType")


def test_method_not_allowed_returns_405(cluster: Cluster) -> None:
    code, body = _request(cluster, "PUT", KS_PATH, b"{}")
    assert code == 405
    _assert_status(body, 405, "MethodNotAllowed")
    code, body = _request(cluster, "POST", f"{KS_PATH}/myapp-dev", b"{}")
    assert code == 405


def test_wrong_kind_in_body_returns_400(cluster: Cluster) -> None:
    body = kustomization()
    body["kind"] = "GitRepository"
    code, status = _request(cluster, "POST", KS_PATH, json.dumps(body).encode())
    assert code == 400
    _assert_status(status, 400, "BadRequest")


def test_name_mismatch_on_put_returns_400(cluster: Cluster) -> None:
    created = cluster.custom.create_namespaced_custom_object(
        KS_GROUP, VERSION, "flux-system", "kustomizations", kustomization()
    )
    code, status = _request(cluster, "PUT", f"{KS_PATH}/other", json.dumps(created).encode())
    assert code == 400
    _assert_status(status, 400, "BadRequest")
    assert status["message"] == (
        "the name of the object (myapp-dev) does not match the name on the URL (other)"
    )


@pytest.mark.parametrize(
    "body",
    [
        b"null",
        b"[]",
        b'"x"',
        b"42",
        b'{"metadata": 5}',
        b'{"metadata": {"name": 5}}',
        b'{"spec": []}',
        b"\xff\xfe",
        b'{"metadata": {"name": "x", "labels": [1]}}',
    ],
)
def test_garbage_bodies_never_crash_the_server(cluster: Cluster, body: bytes) -> None:
    code, status = _request(cluster, "POST", KS_PATH, body)
    assert 400 <= code < 500, (code, status)
    assert status["kind"] == "Status"
    for method in ("PUT", "PATCH"):
        code, status = _request(
            cluster,
            method,
            f"{KS_PATH}/x",
            body,
            "application/merge-patch+json" if method == "PATCH" else "application/json",
        )
        assert 400 <= code < 500, (method, code, status)
    assert cluster.core.list_namespace().items  # still serving


def test_garbage_queries_never_crash_the_server(cluster: Cluster) -> None:
    for query in (
        "watch=maybe",
        "limit=abc",
        "continue=%%%",
        "labelSelector=a%3D%3D%3Db",
        "watch=1&resourceVersion=abc",
        "watch=1&timeoutSeconds=x",
    ):
        code, status = _request(cluster, "GET", f"{KS_PATH}?{query}")
        assert code in (200, 400), (query, code, status)
    assert cluster.core.list_namespace().items
