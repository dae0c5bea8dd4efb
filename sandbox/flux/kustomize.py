"""A small kustomize build in Python, for the Flux simulator's kustomize-controller.

It renders what the example content and typical small edits use: `resources` (files and
directories), `namespace`, `namePrefix`/`nameSuffix`, `commonLabels`/`labels`,
`commonAnnotations`, `patches` (strategic-merge and JSON 6902, inline or from files, with
`target`), the deprecated `patchesStrategicMerge`/`patchesJson6902`, `replicas` and `images`,
in kustomize's transformer order. A build that kustomize would refuse raises KustomizeError with
a message shaped like kustomize's. It must not touch the cluster or the network (remote bases
are refused), and must not read outside the root it is given.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from sandbox.flux.patching import PatchError, apply_json6902, strategic_merge

Obj = dict[str, Any]

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")

# Fields kustomize knows; an unknown one is refused as kustomize's strict decoding does.
_SUPPORTED_FIELDS = frozenset(
    {
        "apiVersion",
        "kind",
        "metadata",
        "resources",
        "bases",
        "namespace",
        "namePrefix",
        "nameSuffix",
        "commonLabels",
        "labels",
        "commonAnnotations",
        "patches",
        "patchesStrategicMerge",
        "patchesJson6902",
        "images",
        "replicas",
        "buildMetadata",
        "sortOptions",
    }
)
_UNSUPPORTED_FIELDS = frozenset(
    {
        "components",
        "configMapGenerator",
        "secretGenerator",
        "generatorOptions",
        "crds",
        "generators",
        "transformers",
        "validators",
        "replacements",
        "vars",
        "openapi",
        "helmCharts",
        "helmGlobals",
        "helmChartInflationGenerator",
        "configurations",
    }
)

CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "PersistentVolume",
        "StorageClass",
        "PriorityClass",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "APIService",
        "Node",
        "IngressClass",
        "RuntimeClass",
        "CSIDriver",
        "CSINode",
        "VolumeAttachment",
        "PodSecurityPolicy",
        "ComponentStatus",
    }
)
_WORKLOAD_KINDS = frozenset(
    {
        "Deployment",
        "ReplicaSet",
        "StatefulSet",
        "DaemonSet",
        "Job",
        "ReplicationController",
    }
)
_REPLICA_KINDS = frozenset({"Deployment", "ReplicaSet", "StatefulSet", "ReplicationController"})

# kustomize's "legacy" output order: these kinds first, in this order; webhooks last.
_ORDER_FIRST = [
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
]
_ORDER_LAST = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]


class KustomizeError(Exception):
    """A build kustomize would refuse; the message reads as kustomize's own."""


def build(
    path: str | Path,
    *,
    root: str | Path | None = None,
    overrides: Obj | None = None,
    generate_missing: bool = False,
) -> list[Obj]:
    """Builds the kustomization at `path` and returns its objects in kustomize's output order.

    `root` bounds every file read (default: `path`). `overrides` are kustomization fields laid
    over the root kustomization (Flux's targetNamespace, patches, images, namePrefix/Suffix).
    With `generate_missing`, a directory without a kustomization file is built from every
    manifest under it, as kustomize-controller does.
    """
    directory = Path(path).resolve()
    builder = _Builder(Path(root).resolve() if root is not None else directory)
    objects = builder.build_dir(directory, overrides or {}, generate_missing=generate_missing)
    return sorted(objects, key=_order_key)


def resource_id(obj: Obj) -> str:
    """kustomize's id of an object: Kind.version.group/name.namespace ("[noNs]" when none)."""
    group, version = split_api_version(str(obj.get("apiVersion", "")))
    gvk = f"{obj.get('kind', '')}.{version}" + (f".{group}" if group else "")
    meta = obj.get("metadata") or {}
    return f"{gvk}/{meta.get('name', '')}.{meta.get('namespace') or '[noNs]'}"


def split_api_version(api_version: str) -> tuple[str, str]:
    """("apps", "v1") for "apps/v1"; ("", "v1") for the core group."""
    if "/" in api_version:
        group, version = api_version.split("/", 1)
        return group, version
    return "", api_version


def to_yaml(objects: Iterable[Obj]) -> str:
    return "---\n".join(yaml.safe_dump(obj, sort_keys=True) for obj in objects)


def _order_key(obj: Obj) -> tuple[int, str, str, str]:
    kind = str(obj.get("kind", ""))
    if kind in _ORDER_FIRST:
        rank = _ORDER_FIRST.index(kind)
    elif kind in _ORDER_LAST:
        rank = len(_ORDER_FIRST) + 1 + _ORDER_LAST.index(kind)
    else:
        rank = len(_ORDER_FIRST)
    meta = obj.get("metadata") or {}
    return rank, kind, str(meta.get("namespace") or ""), str(meta.get("name") or "")


class _Builder:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.former_names: dict[int, set[str]] = {}  # id(object) -> names before prefix/suffix

    # ----------------------------------------------------------------- loading

    def _rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root)) or "."
        except ValueError:
            return str(path)

    def _inside_root(self, path: Path) -> bool:
        return path == self.root or self.root in path.parents

    def _kustomization_file(self, directory: Path) -> Path | None:
        for name in KUSTOMIZATION_FILES:
            candidate = directory / name
            if candidate.is_file():
                return candidate
        return None

    def _read_kustomization(self, file: Path) -> Obj:
        try:
            data = yaml.safe_load(file.read_text())
        except yaml.YAMLError as exc:
            raise KustomizeError(
                f"MalformedYAMLError: {_yaml_reason(exc)} in File: {self._rel(file)}"
            ) from exc
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise KustomizeError(
                f"invalid Kustomization: json: cannot unmarshal {_json_type(data)} "
                "into Go value of type types.Kustomization"
            )
        for key in data:
            if key in _UNSUPPORTED_FIELDS:
                raise KustomizeError(
                    f"{self._rel(file)}: field '{key}' is valid kustomize but not supported "
                    "by the sandbox renderer"
                )
            if key not in _SUPPORTED_FIELDS:
                raise KustomizeError(f'invalid Kustomization: json: unknown field "{key}"')
        for key in ("resources", "bases", "patchesStrategicMerge"):
            value = data.get(key)
            if value is not None and (
                not isinstance(value, list) or not all(isinstance(v, str) for v in value)
            ):
                bad = (
                    value
                    if not isinstance(value, list)
                    else next(v for v in value if not isinstance(v, str))
                )
                raise KustomizeError(
                    f"invalid Kustomization: json: cannot unmarshal {_json_type(bad)} into Go "
                    f"struct field Kustomization.{key} of type "
                    + ("string" if isinstance(value, list) else "[]string")
                )
        return data

    def load_manifests(self, file: Path, origin: str) -> list[Obj]:
        """All objects in a YAML file (a `kind: List` is flattened)."""
        try:
            docs = list(yaml.safe_load_all(file.read_text()))
        except yaml.YAMLError as exc:
            raise KustomizeError(
                f"accumulating resources: accumulating resources from '{origin}': "
                f"MalformedYAMLError: {_yaml_reason(exc)} in File: {origin}"
            ) from exc
        objects: list[Obj] = []
        for doc in docs:
            if doc is None:
                continue
            if not isinstance(doc, dict):
                raise KustomizeError(
                    f"accumulating resources: accumulating resources from '{origin}': "
                    f"expected a mapping, got {_json_type(doc)}"
                )
            if doc.get("kind") == "List" and isinstance(doc.get("items"), list):
                objects.extend(copy.deepcopy(item) for item in doc["items"] if item)
            else:
                objects.append(doc)
        for obj in objects:
            problem = _missing_identity(obj)
            if problem:
                raise KustomizeError(
                    f"accumulating resources: accumulation err='accumulating resources from "
                    f"'{origin}': {problem}': must build at directory: '{self._rel(file)}': "
                    "file is not directory"
                )
        return objects

    # ----------------------------------------------------------------- building

    def build_dir(self, directory: Path, overrides: Obj, *, generate_missing: bool) -> list[Obj]:
        if not directory.is_dir():
            raise KustomizeError(f"kustomization path not found: {self._rel(directory)}")
        file = self._kustomization_file(directory)
        if file is None:
            if not generate_missing:
                raise KustomizeError(
                    "unable to find one of 'kustomization.yaml', 'kustomization.yml' or "
                    f"'Kustomization' in directory '{self._rel(directory)}'"
                )
            kustomization = self._generated_kustomization(directory)
        else:
            kustomization = self._read_kustomization(file)
        for key, value in overrides.items():
            if key in ("patches", "images") and kustomization.get(key):
                kustomization[key] = [*kustomization[key], *value]
            else:
                kustomization[key] = value
        return self._run(directory, kustomization)

    def _generated_kustomization(self, directory: Path) -> Obj:
        resources: list[str] = []
        for entry in sorted(directory.iterdir()):
            if entry.is_dir():
                if self._kustomization_file(entry) is not None or any(_manifest_files(entry)):
                    resources.append(entry.name)
            elif entry.suffix in (".yaml", ".yml", ".json") and _is_manifest_file(entry):
                resources.append(entry.name)
        return {"resources": resources, "_generate": True}

    def _run(self, directory: Path, k: Obj) -> list[Obj]:
        objects: list[Obj] = []
        seen: set[str] = set()
        generate = bool(k.pop("_generate", False))
        for entry in [*(k.get("bases") or []), *(k.get("resources") or [])]:
            for obj in self._accumulate(directory, entry, generate):
                rid = resource_id(obj)
                if rid in seen:
                    raise KustomizeError(
                        f"may not add resource with an already registered id: {rid}"
                    )
                seen.add(rid)
                objects.append(obj)

        for entry in k.get("patchesStrategicMerge") or []:
            for patch in self._patch_documents(directory, entry):
                self._apply_identified_smp(objects, patch)
        for spec in k.get("patches") or []:
            self._apply_patch_entry(directory, objects, spec)
        if k.get("namespace"):
            _set_namespace(objects, str(k["namespace"]))
        if k.get("namePrefix") or k.get("nameSuffix"):
            _set_name_affixes(
                objects,
                str(k.get("namePrefix") or ""),
                str(k.get("nameSuffix") or ""),
                self.former_names,
            )
        if k.get("commonLabels"):
            _add_labels(objects, _str_map(k["commonLabels"]), selectors=True, templates=True)
        for spec in k.get("labels") or []:
            _add_labels(
                objects,
                _str_map(spec.get("pairs") or {}),
                selectors=bool(spec.get("includeSelectors")),
                templates=bool(spec.get("includeTemplates") or spec.get("includeSelectors")),
            )
        if k.get("commonAnnotations"):
            _add_annotations(objects, _str_map(k["commonAnnotations"]))
        for spec in k.get("patchesJson6902") or []:
            if "target" not in spec:
                raise KustomizeError(f"must specify a target for JSON patch {spec}")
            self._apply_patch_entry(directory, objects, spec)
        for spec in k.get("replicas") or []:
            _set_replicas(objects, spec, self.former_names)
        for spec in k.get("images") or []:
            _set_images(objects, spec)
        return objects

    def _accumulate(self, directory: Path, entry: str, generate: bool) -> list[Obj]:
        if "://" in entry or entry.startswith(("github.com/", "git@")):
            raise KustomizeError(
                f"accumulating resources: remote resource '{entry}' is not supported by the sandbox"
            )
        target = (directory / entry).resolve()
        if not self._inside_root(target):
            raise KustomizeError(
                f"accumulating resources: accumulation err='accumulating resources from '{entry}': "
                f"security; file '{target}' is not in or below '{self.root}''"
            )
        if target.is_dir():
            return self.build_dir(target, {}, generate_missing=generate)
        if not target.exists():
            raise KustomizeError(
                f"accumulating resources: accumulation err='accumulating resources from '{entry}': "
                f"evalsymlink failure on '{self._rel(target)}' : lstat {self._rel(target)}: "
                "no such file or directory'"
            )
        if directory not in target.parents:
            raise KustomizeError(
                f"accumulating resources: accumulation err='accumulating resources from '{entry}': "
                f"security; file '{self._rel(target)}' is not in or below '{self._rel(directory)}''"
            )
        return self.load_manifests(target, entry)

    # ----------------------------------------------------------------- patches

    def _patch_text(self, directory: Path, spec: Obj) -> tuple[str, str]:
        """The patch body and a name for messages, from `path` or inline `patch`."""
        if spec.get("path"):
            file = (directory / str(spec["path"])).resolve()
            if not self._inside_root(file):
                raise KustomizeError(f"security; file '{file}' is not in or below '{self.root}'")
            if not file.is_file():
                raise KustomizeError(
                    f"trouble configuring builtin PatchTransformer with config: `path: "
                    f"{spec['path']}`: open {self._rel(file)}: no such file or directory"
                )
            return file.read_text(), str(spec["path"])
        if spec.get("patch") is not None:
            return str(spec["patch"]), "inline patch"
        raise KustomizeError("must specify one of patch and path in " + json.dumps(spec))

    def _patch_documents(self, directory: Path, entry: str) -> list[Any]:
        candidate = directory / entry
        if "\n" not in entry and candidate.suffix in (".yaml", ".yml", ".json"):
            text, origin = self._patch_text(directory, {"path": entry})
        else:
            text, origin = entry, "inline patch"
        return _parse_patch(text, origin)

    def _apply_patch_entry(self, directory: Path, objects: list[Obj], spec: Obj) -> None:
        if not isinstance(spec, dict):
            raise KustomizeError(
                f"invalid Kustomization: patch entry must be a mapping, got {spec!r}"
            )
        text, origin = self._patch_text(directory, spec)
        docs = _parse_patch(text, origin)
        target = spec.get("target")
        if len(docs) == 1 and isinstance(docs[0], list):
            if not target:
                raise KustomizeError(
                    f"must specify a target for JSON patch [patch: {json.dumps(text)}]"
                )
            for obj in _select(objects, target):
                try:
                    replaced = apply_json6902(obj, docs[0])
                except PatchError as exc:
                    raise KustomizeError(str(exc)) from exc
                obj.clear()
                obj.update(replaced)
            return
        for patch in docs:
            if not isinstance(patch, dict):
                raise KustomizeError(f"unable to parse SM or JSON patch from {text!r}")
            if target:
                for obj in _select(objects, target):
                    anonymous = copy.deepcopy(patch)
                    meta = anonymous.get("metadata")
                    if isinstance(meta, dict):
                        meta.pop("name", None)
                        meta.pop("namespace", None)
                    anonymous.pop("apiVersion", None)
                    anonymous.pop("kind", None)
                    _merge_into(obj, anonymous)
            else:
                self._apply_identified_smp(objects, patch)

    def _apply_identified_smp(self, objects: list[Obj], patch: Any) -> None:
        if not isinstance(patch, dict):
            raise KustomizeError(f"unable to parse SM or JSON patch from {patch!r}")
        problem = _missing_identity(patch)
        if problem:
            raise KustomizeError(f"unable to parse SM or JSON patch: {problem}")
        pid = resource_id(patch)
        meta = patch.get("metadata") or {}
        matches = [
            obj
            for obj in objects
            if obj.get("kind") == patch.get("kind")
            and split_api_version(obj["apiVersion"])[0] == split_api_version(patch["apiVersion"])[0]
            and (obj.get("metadata") or {}).get("name") == meta.get("name")
            and (
                not meta.get("namespace")
                or (obj.get("metadata") or {}).get("namespace") in (None, meta.get("namespace"))
            )
        ]
        if len(matches) != 1:
            raise KustomizeError(
                f'no resource matches strategic merge patch "{pid}": no matches for Id {pid}; '
                f"failed to find unique target for patch {pid}"
                if not matches
                else f"multiple matches for Id {pid}; failed to find unique target for patch {pid}"
            )
        body = copy.deepcopy(patch)
        body.pop("apiVersion", None)
        body.pop("kind", None)
        _merge_into(matches[0], body)


# --------------------------------------------------------------------- helpers


def _merge_into(obj: Obj, patch: Obj) -> None:
    try:
        merged = strategic_merge(obj, patch)
    except PatchError as exc:
        raise KustomizeError(str(exc)) from exc
    obj.clear()
    obj.update(merged)


def _parse_patch(text: str, origin: str) -> list[Any]:
    try:
        docs = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as exc:
        raise KustomizeError(
            f"unable to parse SM or JSON patch from {origin}: {_yaml_reason(exc)}"
        ) from exc
    if not docs:
        raise KustomizeError(f"unable to parse SM or JSON patch from {origin}: empty patch")
    return docs


def _missing_identity(obj: Obj) -> str | None:
    meta = obj.get("metadata")
    if not obj.get("kind"):
        return f"missing kind in object {_go_repr(obj)}"
    if not obj.get("apiVersion"):
        return f"missing apiVersion in object {_go_repr(obj)}"
    if not isinstance(meta, dict) or not meta.get("name"):
        return f"missing metadata.name in object {_go_repr(obj)}"
    return None


def _go_repr(obj: Obj) -> str:
    return json.dumps(obj, sort_keys=True, default=str)[:200]


def _yaml_reason(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None:
        return f"yaml: line {mark.line + 1}: {problem}"
    return f"yaml: {problem}"


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return "null"


def _str_map(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise KustomizeError(f"invalid Kustomization: expected a map of strings, got {value!r}")
    return {
        str(k): "" if v is None else str(v) if not isinstance(v, bool) else str(v).lower()
        for k, v in value.items()
    }


def _manifest_files(directory: Path) -> Iterator[Path]:
    for file in sorted(directory.rglob("*")):
        if file.is_file() and file.suffix in (".yaml", ".yml", ".json") and _is_manifest_file(file):
            yield file


def _is_manifest_file(file: Path) -> bool:
    try:
        docs = [d for d in yaml.safe_load_all(file.read_text()) if d is not None]
    except (yaml.YAMLError, UnicodeDecodeError):
        return True  # let the build report the error
    return any(
        isinstance(d, dict)
        and d.get("kind")
        and not str(d.get("apiVersion", "")).startswith("kustomize.config.k8s.io")
        for d in docs
    )


def _meta(obj: Obj) -> Obj:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = obj["metadata"] = {}
    return meta


def _template_meta(obj: Obj) -> Obj | None:
    kind = obj.get("kind")
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return None
    if kind in _WORKLOAD_KINDS:
        template = spec.setdefault("template", {})
    elif kind == "CronJob":
        template = (
            spec.setdefault("jobTemplate", {}).setdefault("spec", {}).setdefault("template", {})
        )
    else:
        return None
    if not isinstance(template.get("metadata"), dict):
        template["metadata"] = {}
    return template["metadata"]  # type: ignore[no-any-return]


def _set_namespace(objects: list[Obj], namespace: str) -> None:
    for obj in objects:
        if obj.get("kind") not in CLUSTER_SCOPED_KINDS:
            _meta(obj)["namespace"] = namespace
        if obj.get("kind") in ("RoleBinding", "ClusterRoleBinding"):
            for subject in obj.get("subjects") or []:
                if isinstance(subject, dict) and subject.get("kind") == "ServiceAccount":
                    subject["namespace"] = namespace


def _set_name_affixes(
    objects: list[Obj], prefix: str, suffix: str, former: dict[int, set[str]]
) -> None:
    for obj in objects:
        if obj.get("kind") in ("Namespace", "CustomResourceDefinition"):
            continue
        meta = _meta(obj)
        former.setdefault(id(obj), set()).add(str(meta.get("name", "")))
        meta["name"] = f"{prefix}{meta.get('name', '')}{suffix}"


def _add_labels(
    objects: list[Obj], labels: dict[str, str], *, selectors: bool, templates: bool
) -> None:
    for obj in objects:
        _meta(obj).setdefault("labels", {}).update(labels)
        if templates:
            template = _template_meta(obj)
            if template is not None:
                template.setdefault("labels", {}).update(labels)
        if selectors:
            spec = obj.get("spec")
            if not isinstance(spec, dict):
                continue
            if obj.get("kind") in ("Service", "ReplicationController"):
                spec.setdefault("selector", {}).update(labels)
            elif obj.get("kind") in _WORKLOAD_KINDS - {"ReplicationController", "Job"}:
                spec.setdefault("selector", {}).setdefault("matchLabels", {}).update(labels)


def _add_annotations(objects: list[Obj], annotations: dict[str, str]) -> None:
    for obj in objects:
        _meta(obj).setdefault("annotations", {}).update(annotations)
        template = _template_meta(obj)
        if template is not None:
            template.setdefault("annotations", {}).update(annotations)


def _set_replicas(objects: list[Obj], spec: Obj, former: dict[int, set[str]]) -> None:
    """Sets spec.replicas of the workloads named `name`, by current or original name."""
    name, count = spec.get("name"), spec.get("count")
    if not isinstance(count, int):
        raise KustomizeError(
            f"invalid Kustomization: replicas entry {spec!r} needs an integer count"
        )
    for obj in objects:
        names = {_meta(obj).get("name"), *former.get(id(obj), set())}
        if obj.get("kind") in _REPLICA_KINDS and name in names:
            obj.setdefault("spec", {})["replicas"] = count


def split_image(image: str) -> tuple[str, str | None, str | None]:
    """(name, tag, digest) of an image reference; the tag follows the last ':' of the last part."""
    digest = None
    if "@" in image:
        image, digest = image.split("@", 1)
    tag = None
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        image, tag = image.rsplit(":", 1)
    return image, tag, digest


def _set_images(objects: list[Obj], spec: Obj) -> None:
    wanted = spec.get("name")
    if not wanted:
        raise KustomizeError(f"invalid Kustomization: images entry {spec!r} has no name")
    for obj in objects:
        for container in _containers(obj):
            image = container.get("image")
            if not isinstance(image, str):
                continue
            name, tag, digest = split_image(image)
            if name != wanted:
                continue
            name = str(spec.get("newName") or name)
            if spec.get("digest"):
                tag, digest = None, str(spec["digest"])
            elif spec.get("newTag") is not None:
                tag, digest = str(spec["newTag"]), None
            container["image"] = (
                name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
            )


def _containers(node: Any) -> Iterator[Obj]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("containers", "initContainers", "ephemeralContainers") and isinstance(
                value, list
            ):
                yield from (c for c in value if isinstance(c, dict))
            else:
                yield from _containers(value)
    elif isinstance(node, list):
        for item in node:
            yield from _containers(item)


def _select(objects: list[Obj], target: Obj) -> list[Obj]:
    """The objects a patch `target` selects (name, kind and namespace are anchored regexes)."""
    if not isinstance(target, dict):
        raise KustomizeError(
            f"invalid Kustomization: patch target must be a mapping, got {target!r}"
        )
    selected = []
    for obj in objects:
        group, version = split_api_version(str(obj.get("apiVersion", "")))
        meta = obj.get("metadata") or {}
        checks = [
            ("group", group),
            ("version", version),
            ("kind", str(obj.get("kind", ""))),
            ("name", str(meta.get("name", ""))),
            ("namespace", str(meta.get("namespace") or "")),
        ]
        if (
            all(
                target.get(field) in (None, "") or re.fullmatch(str(target[field]), value)
                for field, value in checks
            )
            and _selector_matches(target.get("labelSelector"), meta.get("labels") or {})
            and _selector_matches(target.get("annotationSelector"), meta.get("annotations") or {})
        ):
            selected.append(obj)
    return selected


def _selector_matches(selector: str | None, labels: dict[str, str]) -> bool:
    if not selector:
        return True
    return all(selector_term_matches(term, labels) for term in split_selector(selector))


def split_selector(selector: str) -> list[str]:
    """Splits a label selector on the commas outside of `in (...)` sets."""
    terms, depth, current = [], 0, ""
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            terms.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        terms.append(current.strip())
    return terms


def selector_term_matches(term: str, labels: dict[str, str]) -> bool:
    """One equality- or set-based label selector term against a label map."""
    match = re.fullmatch(r"\s*([^\s!=]+)\s+(in|notin)\s+\((.*)\)\s*", term)
    if match:
        key, op, values = (
            match.group(1),
            match.group(2),
            {v.strip() for v in match.group(3).split(",")},
        )
        return (labels.get(key) in values) if op == "in" else (labels.get(key) not in values)
    if "!=" in term:
        key, value = (part.strip() for part in term.split("!=", 1))
        return labels.get(key) != value
    if "=" in term:
        key, value = (part.strip() for part in re.split(r"==?", term, maxsplit=1))
        return labels.get(key) == value
    if term.startswith("!"):
        return term[1:].strip() not in labels
    return term in labels
