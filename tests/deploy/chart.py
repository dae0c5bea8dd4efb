"""Helpers for the chart tests: render with the Helm SDK, split and validate the manifests, and
play the kubelet's part of turning a rendered pod spec into the bot's environment and files.

Real Helm (helm-python-sdk embeds Helm's Go library, offline) and the real Kubernetes schemas
(kubernetes-validate); nothing here re-implements Helm's template language.
"""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "promotebot"
KUBE_VERSION = "1.30.0"
RELEASE, NAMESPACE = "promotebot", "promotebot"

Doc = dict[str, Any]


def render(values: Mapping[str, Any] | None = None, chart: Path = CHART) -> dict[str, str]:
    """Template path -> rendered text, as `helm template` (the schema is checked first)."""
    with helm.Chart.load(chart) as loaded:
        return loaded.render(
            dict(values) if values is not None else None,
            name=RELEASE,
            namespace=NAMESPACE,
            is_install=True,
        )


def documents(rendered: Mapping[str, str]) -> list[Doc]:
    """Every Kubernetes object in the render (NOTES.txt is text, not a manifest)."""
    found: list[Doc] = []
    for path, text in sorted(rendered.items()):
        if path.endswith(".txt"):
            continue
        found.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return found


def kube_problems(docs: list[Doc]) -> list[str]:
    """Every object checked against the Kubernetes schemas of KUBE_VERSION (strict: unknown
    fields are errors). A kind without a schema is a problem too: nothing goes unchecked."""
    problems = []
    for doc in docs:
        name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        try:
            kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(p) for p in error.path)
            problems.append(f"{name}: {path}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            problems.append(f"{name}: {error.message}")
    return problems


def one(docs: list[Doc], kind: str, name_suffix: str = "") -> Doc:
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"].endswith(name_suffix)]
    assert len(matches) == 1, f"{len(matches)} {kind} named *{name_suffix}"
    return matches[0]


def pod_annotations(docs: list[Doc]) -> dict[str, str]:
    return dict(one(docs, "Deployment")["spec"]["template"]["metadata"]["annotations"])


def chart_without_schema(into: Path) -> Path:
    """A copy of the chart without values.schema.json: what the template alone refuses."""
    copy = into / "promotebot"
    shutil.copytree(CHART, copy)
    (copy / "values.schema.json").unlink()
    return copy


def _data(obj: Doc) -> dict[str, str]:
    if obj["kind"] == "Secret":
        return {k: base64.b64decode(v).decode() for k, v in (obj.get("data") or {}).items()}
    return dict(obj.get("data") or {})


def _objects(docs: list[Doc], extra: list[Doc]) -> dict[tuple[str, str], dict[str, str]]:
    return {(d["kind"], d["metadata"]["name"]): _data(d) for d in [*docs, *extra]}


def kubelet_environment(docs: list[Doc], root: Path, extra: tuple[Doc, ...] = ()) -> dict[str, str]:
    """The container's environment as the kubelet would make it from the rendered Deployment,
    with each mounted ConfigMap or Secret written under `root` and paths in the environment
    rewritten to there. `extra` holds objects the chart does not make (an existingSecret).
    A missing object or key raises KeyError, as the kubelet refuses to start the container."""
    objects = _objects(docs, list(extra))
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(objects[("ConfigMap", source["configMapRef"]["name"])])
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
            continue
        ref = var["valueFrom"]
        kind, key_ref = (
            ("Secret", ref["secretKeyRef"])
            if "secretKeyRef" in ref
            else ("ConfigMap", ref["configMapKeyRef"])
        )
        source = objects[(kind, key_ref["name"])]
        if key_ref.get("optional") and key_ref["key"] not in source:
            continue  # as the kubelet does: an optional key that is missing sets nothing
        env[var["name"]] = source[key_ref["key"]]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    mounts: dict[str, Path] = {}
    for mount in container.get("volumeMounts", []):
        volume = volumes[mount["name"]]
        target = root / mount["mountPath"].lstrip("/")
        target.mkdir(parents=True, exist_ok=True)
        mounts[mount["mountPath"]] = target
        for file_name, content in _volume_files(volume, objects).items():
            (target / file_name).write_text(content)
    for name, value in env.items():
        for mount_path, target in mounts.items():
            if value.startswith(mount_path + "/"):
                env[name] = str(target) + value[len(mount_path) :]
    return env


def _volume_files(volume: Doc, objects: dict[tuple[str, str], dict[str, str]]) -> dict[str, str]:
    if "configMap" in volume:
        source, data = volume["configMap"], objects[("ConfigMap", volume["configMap"]["name"])]
    elif "secret" in volume:
        source, data = volume["secret"], objects[("Secret", volume["secret"]["secretName"])]
    else:
        return {}
    items = source.get("items") or [{"key": k, "path": k} for k in data]
    return {item["path"]: data[item["key"]] for item in items}


def values_keys(values: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for key, value in values.items():
        path = f"{prefix}{key}"
        yield path
        if isinstance(value, Mapping):
            yield from values_keys(value, path + ".")
