"""Objects the kube emulator tests create: valid Flux objects, a Deployment and a Pod."""

from __future__ import annotations

from typing import Any

KS_GROUP, SOURCE_GROUP, VERSION = "kustomize.toolkit.fluxcd.io", "source.toolkit.fluxcd.io", "v1"


def kustomization(name: str = "myapp-dev", env: str = "dev", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "interval": "1m",
        "path": f"./overlays/{env}",
        "prune": True,
        "timeout": "3m",
        "targetNamespace": env,
        "sourceRef": {"kind": "GitRepository", "name": name},
    }
    body.update(spec)
    return {
        "apiVersion": f"{KS_GROUP}/{VERSION}",
        "kind": "Kustomization",
        "metadata": {
            "name": name,
            "namespace": "flux-system",
            "labels": {"app": "myapp", "env": env},
        },
        "spec": body,
    }


def git_repository(name: str = "myapp-dev", branch: str = "dev") -> dict[str, Any]:
    return {
        "apiVersion": f"{SOURCE_GROUP}/{VERSION}",
        "kind": "GitRepository",
        "metadata": {"name": name, "namespace": "flux-system"},
        "spec": {
            "interval": "1m",
            "url": "http://127.0.0.1:9/myapp.git",
            "ref": {"branch": branch},
        },
    }


def staging_kustomization() -> dict[str, Any]:
    return kustomization(
        "myapp-staging", "staging", interval="2m", dependsOn=[{"name": "myapp-dev"}]
    )


def deployment(name: str = "myapp", replicas: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "ghcr.io/example/myapp:1.0.0",
                            "resources": {"requests": {"memory": "64Mi", "cpu": "100m"}},
                        },
                        {"name": "sidecar", "image": "busybox:1.36"},
                    ]
                },
            },
        },
    }


def pod(name: str, app: str = "myapp") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": app}},
        "spec": {"containers": [{"name": "app", "image": "ghcr.io/example/myapp:1.0.0"}]},
    }


def valid_flux_objects() -> list[dict[str, Any]]:
    """Every valid Flux object these tests send to the emulator."""
    return [
        kustomization(),
        staging_kustomization(),
        git_repository(),
        git_repository("myapp-staging", "staging"),
    ]
