"""kubectl against the emulated apiserver: discovery, tables, describe, patch, rollout status."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.kube.conftest import Cluster
from tests.kube.objects import (
    KS_GROUP,
    SOURCE_GROUP,
    VERSION,
    deployment,
    git_repository,
    kustomization,
    pod,
)
from tests.tools import kubectl

KUBECTL = kubectl()
REVISION = "dev@sha1:" + "4f" * 20


def _kubectl(cluster: Cluster, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"HOME": str(tmp_path), "PATH": os.environ.get("PATH", "/usr/bin")}
    return subprocess.run(
        [
            KUBECTL,
            "--server",
            cluster.server.url,
            "--cache-dir",
            str(tmp_path / "cache"),
            "--request-timeout",
            "10s",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        check=False,
    )


@pytest.fixture
def seeded(cluster: Cluster) -> Cluster:
    store = cluster.store
    store.create("gitrepositories", "flux-system", git_repository())
    store.create("kustomizations", "flux-system", kustomization())
    store.patch_status(
        "kustomizations",
        "flux-system",
        "myapp-dev",
        {
            "observedGeneration": 1,
            "lastAppliedRevision": REVISION,
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "ReconciliationSucceeded",
                    "message": f"Applied revision: {REVISION}",
                    "lastTransitionTime": "2025-01-01T00:00:00Z",
                    "observedGeneration": 1,
                }
            ],
        },
    )
    store.create("deployments", "dev", deployment())
    store.patch_status(
        "deployments",
        "dev",
        "myapp",
        {
            "observedGeneration": 1,
            "replicas": 1,
            "updatedReplicas": 1,
            "readyReplicas": 1,
            "availableReplicas": 1,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
            ],
        },
    )
    store.create("pods", "dev", pod("myapp-7d9f-abcde"))
    return cluster


def test_kubectl_get_kustomizations_all_namespaces(seeded: Cluster, tmp_path: Path) -> None:
    result = _kubectl(seeded, tmp_path, "get", "kustomizations", "-A")
    assert result.returncode == 0, result.stderr
    header, row = result.stdout.splitlines()
    assert header.split() == ["NAMESPACE", "NAME", "AGE", "READY", "STATUS"]
    assert row.split()[:2] == ["flux-system", "myapp-dev"]
    assert row.split()[3:] == ["True", "Applied", "revision:", REVISION]


def test_kubectl_get_several_kinds_in_namespace(seeded: Cluster, tmp_path: Path) -> None:
    result = _kubectl(seeded, tmp_path, "get", "gitrepositories,deployments,pods", "-n", "dev")
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines() if line.strip()]
    assert lines[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert lines[1][:4] == ["deployment.apps/myapp", "1/1", "1", "1"]
    assert lines[2] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert lines[3][:4] == ["pod/myapp-7d9f-abcde", "0/1", "Pending", "0"]


def test_kubectl_get_short_names_and_flux_sources(seeded: Cluster, tmp_path: Path) -> None:
    result = _kubectl(seeded, tmp_path, "get", "gitrepo", "-n", "flux-system")
    assert result.returncode == 0, result.stderr
    header, row = result.stdout.splitlines()
    assert header.split() == ["NAME", "URL", "AGE", "READY", "STATUS"]
    assert row.split()[:2] == ["myapp-dev", "http://127.0.0.1:9/myapp.git"]
    ks = _kubectl(
        seeded,
        tmp_path,
        "get",
        "ks",
        "myapp-dev",
        "-n",
        "flux-system",
        "-o",
        "jsonpath={.status.lastAppliedRevision}",
    )
    assert ks.stdout == REVISION


def test_kubectl_describe_kustomization(seeded: Cluster, tmp_path: Path) -> None:
    result = _kubectl(
        seeded, tmp_path, "describe", "kustomization", "myapp-dev", "-n", "flux-system"
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.splitlines()[0].split() == ["Name:", "myapp-dev"]
    for expected in (
        "Namespace:    flux-system",
        "Kind:         Kustomization",
        f"API Version:  {KS_GROUP}/{VERSION}",
        "Source Ref:",
        f"Last Applied Revision:   {REVISION}",
        "Reason:                ReconciliationSucceeded",
        "Events:",
    ):
        assert expected in out, expected


def test_kubectl_annotate_and_merge_patch(seeded: Cluster, tmp_path: Path) -> None:
    result = _kubectl(
        seeded,
        tmp_path,
        "annotate",
        "--overwrite",
        "-n",
        "flux-system",
        "kustomization/myapp-dev",
        "reconcile.fluxcd.io/requestedAt=1700000000",
    )
    assert result.returncode == 0, result.stderr
    obj = seeded.store.get("kustomizations", "flux-system", "myapp-dev")
    assert obj["metadata"]["annotations"] == {"reconcile.fluxcd.io/requestedAt": "1700000000"}
    assert obj["metadata"]["generation"] == 1
    result = _kubectl(
        seeded,
        tmp_path,
        "patch",
        "-n",
        "flux-system",
        "kustomization",
        "myapp-dev",
        "--type",
        "merge",
        "-p",
        '{"spec":{"suspend":true}}',
    )
    assert result.returncode == 0, result.stderr
    obj = seeded.store.get("kustomizations", "flux-system", "myapp-dev")
    assert obj["spec"]["suspend"] is True and obj["metadata"]["generation"] == 2


def test_kubectl_strategic_patch_on_crd_is_refused(seeded: Cluster, tmp_path: Path) -> None:
    result = _kubectl(
        seeded,
        tmp_path,
        "patch",
        "-n",
        "flux-system",
        "kustomization",
        "myapp-dev",
        "-p",
        '{"spec":{"suspend":true}}',
    )
    assert result.returncode != 0
    assert "application/strategic-merge-patch+json is not supported" in result.stderr
    assert "suspend" not in seeded.store.get("kustomizations", "flux-system", "myapp-dev")["spec"]


def test_kubectl_rollout_status_reports_success(seeded: Cluster, tmp_path: Path) -> None:
    result = _kubectl(
        seeded, tmp_path, "rollout", "status", "deployment/myapp", "-n", "dev", "--timeout", "10s"
    )
    assert result.returncode == 0, result.stderr
    assert 'deployment "myapp" successfully rolled out' in result.stdout


def test_kubectl_get_missing_object_reports_not_found(seeded: Cluster, tmp_path: Path) -> None:
    result = _kubectl(seeded, tmp_path, "get", "kustomization", "nope", "-n", "flux-system")
    assert result.returncode != 0
    assert 'kustomizations.kustomize.toolkit.fluxcd.io "nope" not found' in result.stderr


def test_kubectl_create_invalid_object_reports_422(seeded: Cluster, tmp_path: Path) -> None:
    manifest = tmp_path / "bad.yaml"
    manifest.write_text(
        f"apiVersion: {SOURCE_GROUP}/{VERSION}\nkind: GitRepository\nmetadata:\n  name: bad\n"
        "  namespace: flux-system\nspec:\n  interval: often\n  url: http://x/y.git\n"
    )
    result = _kubectl(seeded, tmp_path, "create", "-f", str(manifest), "--validate=false")
    assert result.returncode != 0
    assert 'spec.interval: Invalid value: "often"' in result.stderr
