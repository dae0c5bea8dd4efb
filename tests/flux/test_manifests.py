"""Every Flux object, in the example content and in the emulator, is valid for the real CRDs;
the example Flux manifests carry the workflow document's settings."""

from __future__ import annotations

import copy
import subprocess
from typing import Any

import yaml

from sandbox.cluster import EXAMPLE_FLUX_DIR
from sandbox.gitseed import EXAMPLES_DIR
from sandbox.kube import crds
from tests.flux.helpers import FLUX, GITREPO, KS, Env, break_build, condition, wait_for
from tests.tools import kubectl

PLURALS = {"GitRepository": "gitrepositories", "Kustomization": "kustomizations"}


def example_flux_objects() -> list[dict[str, Any]]:
    objects = []
    for path in sorted((EXAMPLES_DIR / "clusters").rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if (
                doc
                and doc.get("kind") in PLURALS
                and "toolkit.fluxcd.io" in doc.get("apiVersion", "")
            ):
                objects.append(doc)
    return objects


def test_example_flux_objects_validate_against_the_crds() -> None:
    objects = example_flux_objects()
    assert sorted((o["kind"], o["metadata"]["name"]) for o in objects) == sorted(
        (kind, f"myapp-{env}") for kind in PLURALS for env in ("dev", "staging", "prod")
    )
    for obj in objects:
        assert crds.validate(PLURALS[obj["kind"]], obj) == [], obj["metadata"]["name"]


def test_crd_validation_refuses_an_invalid_object() -> None:
    [dev] = [
        o
        for o in example_flux_objects()
        if o["kind"] == "Kustomization" and o["metadata"]["name"] == "myapp-dev"
    ]
    broken = copy.deepcopy(dev)
    broken["spec"]["interval"] = "one minute"
    del broken["spec"]["prune"]
    causes = crds.validate("kustomizations", broken)
    assert {field for _, field, _ in causes} == {"spec.interval", "spec.prune"}


def test_example_flux_manifests_follow_the_workflow() -> None:
    by_name = {(o["kind"], o["metadata"]["name"]): o for o in example_flux_objects()}
    settings = {
        "dev": ("1m", None),
        "staging": ("2m", "myapp-dev"),
        "prod": ("5m", "myapp-staging"),
    }
    for env, (interval, dependency) in settings.items():
        source = by_name[("GitRepository", f"myapp-{env}")]
        ks = by_name[("Kustomization", f"myapp-{env}")]
        assert source["metadata"]["namespace"] == ks["metadata"]["namespace"] == FLUX
        assert source["spec"]["ref"] == {"branch": env}
        assert source["spec"]["interval"] == ks["spec"]["interval"] == interval
        assert ks["spec"]["timeout"] == "3m"
        assert ks["spec"]["path"] == f"./apps/myapp/overlays/{env}"
        assert ks["spec"]["sourceRef"] == {"kind": "GitRepository", "name": f"myapp-{env}"}
        assert ks["spec"]["prune"] is True and ks["spec"]["wait"] is True
        assert ks["spec"].get("dependsOn") == ([{"name": dependency}] if dependency else None)


def test_example_flux_manifests_build_with_kubectl_kustomize() -> None:
    out = subprocess.run(
        [kubectl(), "kustomize", str(EXAMPLE_FLUX_DIR)], capture_output=True, text=True, check=True
    ).stdout
    kinds = sorted(doc["kind"] for doc in yaml.safe_load_all(out) if doc)
    assert kinds == ["GitRepository"] * 3 + ["Kustomization"] * 3 + ["Namespace"] * 3


def test_flux_objects_in_the_emulator_validate_with_their_status(env: Env) -> None:
    env.push("dev", break_build, "Break dev so failure conditions are present too")
    wait_for(
        lambda: (c := condition(env.ks("dev"), "Ready")) and c["reason"] == "BuildFailed",
        "dev BuildFailed",
    )
    checked = 0
    for group, version, plural in (KS, GITREPO):
        items = env.custom.list_cluster_custom_object(group, version, plural)["items"]
        for obj in items:
            assert obj["status"]["conditions"], obj["metadata"]["name"]
            assert crds.validate(plural, obj) == [], obj["metadata"]["name"]
            checked += 1
    assert checked == 6
