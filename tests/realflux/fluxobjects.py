"""What goes into the real cluster before Flux can work: the CRDs of the exact controller
releases we run, the namespaces, and the example Flux objects (one GitRepository and one
Kustomization per env) with every GitRepository URL pointed at the GitHub emulator.

The CRDs come from the controllers' own modules (config/crd/bases), so they always match the
binaries. It creates objects through the kubernetes client and waits for nothing but the CRDs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes.client
import yaml
from kubernetes.client.exceptions import ApiException

from sandbox.gitseed import EXAMPLES_DIR
from tests.realflux import build
from tests.waiting import wait_for

FLUX_DIR = EXAMPLES_DIR / "clusters" / "flux-system"
KS = ("kustomize.toolkit.fluxcd.io", "v1", "kustomizations")
GITREPO = ("source.toolkit.fluxcd.io", "v1", "gitrepositories")
Obj = dict[str, Any]


def crd_documents() -> list[Obj]:
    """Every CRD source-controller and kustomize-controller ship (they watch all of theirs)."""
    found: list[Obj] = []
    for name in ("source-controller", "kustomize-controller"):
        for path in sorted((build.module_dir(name) / "config" / "crd" / "bases").glob("*.yaml")):
            found.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return found


def install_crds(api: kubernetes.client.ApiClient, timeout: float = 60.0) -> list[str]:
    """Creates the CRDs and waits until each is Established; returns their names."""
    extensions = kubernetes.client.ApiextensionsV1Api(api)
    names = []
    for doc in crd_documents():
        extensions.create_custom_resource_definition(doc)
        names.append(doc["metadata"]["name"])

    def established() -> bool:
        for name in names:
            crd = extensions.read_custom_resource_definition(name)
            conditions = {c.type: c.status for c in crd.status.conditions or []}
            if conditions.get("Established") != "True":
                return False
        return True

    wait_for(established, "the Flux CRDs to be established", timeout=timeout)
    return names


def example_manifests(repo_url: str, flux_dir: Path = FLUX_DIR) -> list[Obj]:
    """The documents of the example's flux-system kustomization (its `resources`, in order),
    with each GitRepository's spec.url set to `repo_url`."""
    kustomization = yaml.safe_load((flux_dir / "kustomization.yaml").read_text())
    docs: list[Obj] = []
    for resource in kustomization["resources"]:
        docs.extend(d for d in yaml.safe_load_all((flux_dir / resource).read_text()) if d)
    for doc in docs:
        if doc["kind"] == "GitRepository":
            doc["spec"]["url"] = repo_url
    return docs


def ensure_namespace(api: kubernetes.client.ApiClient, name: str) -> None:
    try:
        kubernetes.client.CoreV1Api(api).create_namespace({"metadata": {"name": name}})
    except ApiException as exc:
        if exc.status != 409:
            raise


def create_flux_object(api: kubernetes.client.ApiClient, doc: Obj) -> None:
    group, version, plural = KS if doc["kind"] == "Kustomization" else GITREPO
    kubernetes.client.CustomObjectsApi(api).create_namespaced_custom_object(
        group, version, doc["metadata"]["namespace"], plural, doc)


def get(api: kubernetes.client.ApiClient, kind: tuple[str, str, str], namespace: str,
        name: str) -> Obj:
    group, version, plural = kind
    found: Obj = kubernetes.client.CustomObjectsApi(api).get_namespaced_custom_object(
        group, version, namespace, plural, name)
    return found


def ready(obj: Obj) -> Obj:
    """The Ready condition of a Flux object ({} while it has none)."""
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return dict(cond)
    return {}


Customizer = Callable[[Obj], None]
