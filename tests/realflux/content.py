"""Changes a developer pushes in the scenarios, made from the example content itself: the base
Deployment with another image, and an overlay whose kustomization does not build.
"""

from __future__ import annotations

from sandbox.gitseed import EXAMPLE_APPS_DIR

BASE = "apps/myapp/base/deployment.yaml"
SEED_IMAGE = "ghcr.io/acme/myapp:1.0.0"


def with_image(image: str) -> dict[str, str]:
    """The base Deployment with `image` (a tag starting with `broken` never becomes ready)."""
    text = (EXAMPLE_APPS_DIR / "myapp" / "base" / "deployment.yaml").read_text()
    assert SEED_IMAGE in text, "the example base Deployment changed its image"
    return {BASE: text.replace(SEED_IMAGE, image)}


def overlay_not_building(env: str) -> dict[str, str]:
    """The env's overlay with a resource that does not exist: kustomize build fails."""
    path = f"apps/myapp/overlays/{env}/kustomization.yaml"
    text = (EXAMPLE_APPS_DIR / "myapp" / "overlays" / env / "kustomization.yaml").read_text()
    assert "  - ../../base\n" in text, "the example overlay changed its resources"
    return {path: text.replace("  - ../../base\n", "  - ../../base\n  - missing.yaml\n")}


def overlay_as_seeded(env: str) -> dict[str, str]:
    path = f"apps/myapp/overlays/{env}/kustomization.yaml"
    return {path: (EXAMPLE_APPS_DIR / "myapp" / "overlays" / env / "kustomization.yaml")
            .read_text()}
