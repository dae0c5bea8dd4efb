"""The sandbox kustomize renderer: the example overlays, the transformers small edits use, and
the errors kustomize would give (checked against `kubectl kustomize`)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.flux.kustomize import KustomizeError, build
from sandbox.gitseed import EXAMPLES_DIR
from tests.flux.helpers import EXPECTED
from tests.tools import kubectl

APPS = EXAMPLES_DIR / "apps"
OVERLAYS = APPS / "myapp" / "overlays"
KUBECTL = kubectl()


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0.0
          env:
            - {name: A, value: "1"}
        - name: sidecar
          image: busybox:1.36
"""


def kubectl_kustomize(path: Path) -> list[dict[str, Any]]:
    assert KUBECTL is not None
    out = subprocess.run(
        [KUBECTL, "kustomize", str(path)], capture_output=True, text=True, check=True
    )
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


@pytest.mark.parametrize("env", list(EXPECTED))
def test_overlay_renders_workflow_replicas_resources_and_namespace(env: str) -> None:
    replicas, memory, cpu = EXPECTED[env]
    objects = build(OVERLAYS / env, root=EXAMPLES_DIR)
    [deployment] = objects
    assert deployment["kind"] == "Deployment"
    assert deployment["metadata"]["namespace"] == env
    assert deployment["spec"]["replicas"] == replicas
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"] == {
        "requests": {"memory": memory, "cpu": cpu},
        "limits": {"memory": memory, "cpu": cpu},
    }
    assert container["image"] == "ghcr.io/acme/myapp:1.0.0"


@pytest.mark.parametrize(
    "path", ["myapp/base", "myapp/overlays/dev", "myapp/overlays/staging", "myapp/overlays/prod"]
)
def test_renderer_matches_kubectl_kustomize_on_the_example(path: str) -> None:
    assert build(APPS / path, root=APPS) == kubectl_kustomize(APPS / path)


def test_renderer_matches_kubectl_kustomize_on_typical_edits(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "base/deployment.yaml": DEPLOYMENT,
            "base/kustomization.yaml": "resources: [deployment.yaml]\n",
            "overlay/kustomization.yaml": """\
namespace: qa
namePrefix: team-
commonLabels: {tier: backend}
commonAnnotations: {owner: platform}
resources: [../base]
images:
  - name: ghcr.io/acme/web
    newTag: 2.0.0
  - name: busybox
    newName: registry.local/busybox
replicas:
  - name: web
    count: 4
patches:
  - path: env-patch.yaml
  - target: {kind: Deployment, name: web}
    patch: |-
      - op: add
        path: /spec/template/spec/containers/0/args
        value: ["--verbose"]
      - op: replace
        path: /spec/minReadySeconds
        value: 5
""",
            "overlay/env-patch.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  minReadySeconds: 1
  template:
    spec:
      containers:
        - name: web
          env:
            - {name: B, value: "2"}
            - {name: A, value: "changed"}
        - name: sidecar
          $patch: delete
""",
        },
    )
    mine = build(tmp_path / "overlay", root=tmp_path)
    assert mine == kubectl_kustomize(tmp_path / "overlay")
    [deployment] = mine
    assert deployment["metadata"]["name"] == "team-web"
    assert deployment["spec"]["replicas"] == 4
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["web"]
    assert containers[0]["image"] == "ghcr.io/acme/web:2.0.0"
    # kustomize puts the patch's list items first, in the patch's order
    assert containers[0]["env"] == [{"name": "B", "value": "2"}, {"name": "A", "value": "changed"}]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"kustomization.yaml": "resources: [missing.yaml]\n"},
            "accumulating resources from 'missing.yaml'",
        ),
        (
            {"kustomization.yaml": "resources: [bad.yaml]\n", "bad.yaml": "kind: [Deployment\n"},
            "MalformedYAMLError: yaml: line",
        ),
        (
            {
                "kustomization.yaml": "resources: [nokind.yaml]\n",
                "nokind.yaml": "apiVersion: v1\nmetadata: {name: x}\n",
            },
            "missing kind in object",
        ),
        (
            {"kustomization.yaml": "resources: [d.yaml]\nresourcez: []\n", "d.yaml": DEPLOYMENT},
            'invalid Kustomization: json: unknown field "resourcez"',
        ),
        (
            {
                "kustomization.yaml": "resources: [d.yaml]\npatches:\n  - patch: |-\n"
                "      apiVersion: apps/v1\n      kind: Deployment\n"
                "      metadata: {name: other}\n",
                "d.yaml": DEPLOYMENT,
            },
            'no resource matches strategic merge patch "Deployment.v1.apps/other.[noNs]"',
        ),
        (
            {
                "kustomization.yaml": "resources: [d.yaml]\npatches:\n"
                '  - patch: \'[{"op": "replace", "path": "/spec/replicas", "value": 2}]\'\n',
                "d.yaml": DEPLOYMENT,
            },
            "must specify a target for JSON patch",
        ),
        (
            {"kustomization.yaml": "resources: [d.yaml, d.yaml]\n", "d.yaml": DEPLOYMENT},
            "may not add resource with an already registered id: Deployment.v1.apps/web.[noNs]",
        ),
        ({"kustomization.yaml": "resources: [../../outside.yaml]\n"}, "is not in or below"),
        ({"kustomization.yaml": "resources: [https://github.com/acme/base]\n"}, "remote resource"),
    ],
)
def test_build_error_is_reported_like_kustomize(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    root = write(tmp_path / "repo", files)
    with pytest.raises(KustomizeError) as raised:
        build(root, root=root)
    assert expected in str(raised.value)
    if KUBECTL is not None and "remote" not in expected and "not in or below" not in expected:
        done = subprocess.run([KUBECTL, "kustomize", str(root)], capture_output=True, text=True)
        assert done.returncode != 0  # kustomize refuses the same content


def test_directory_without_kustomization_is_an_error_unless_generated(tmp_path: Path) -> None:
    write(tmp_path, {"d.yaml": DEPLOYMENT, "notes.yaml": "just: data\n"})
    with pytest.raises(KustomizeError, match=r"unable to find one of 'kustomization\.yaml'"):
        build(tmp_path)
    [deployment] = build(tmp_path, generate_missing=True)  # what kustomize-controller does
    assert deployment["metadata"]["name"] == "web"


def test_flux_overrides_set_target_namespace_and_images() -> None:
    [deployment] = build(
        OVERLAYS / "dev",
        root=EXAMPLES_DIR,
        overrides={
            "namespace": "elsewhere",
            "images": [{"name": "ghcr.io/acme/myapp", "newTag": "9.9.9"}],
        },
    )
    assert deployment["metadata"]["namespace"] == "elsewhere"
    assert (
        deployment["spec"]["template"]["spec"]["containers"][0]["image"]
        == "ghcr.io/acme/myapp:9.9.9"
    )
