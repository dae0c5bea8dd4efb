"""Strategic-merge and JSON 6902 patches on plain dicts, for the sandbox kustomize renderer.

Strategic merge follows the Kubernetes rules for the fields a Deployment uses: maps merge,
`null` deletes, lists of containers, env, ports, volumes and mounts merge by their patch
merge key, other lists are replaced, and `$patch: delete|replace` directives are honoured.
It works on copies and must not know where the patch came from.
"""

from __future__ import annotations

import copy
from typing import Any

# Lists merged by a key, by field name (the patchMergeKey of the core/v1 and apps/v1 types).
MERGE_KEYS: dict[str, tuple[str, ...]] = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "volumes": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "imagePullSecrets": ("name",),
    "hostAliases": ("ip",),
    "conditions": ("type",),
    "resourceClaims": ("name",),
    "topologySpreadConstraints": ("topologyKey",),
    # container ports merge by containerPort, Service ports by port
    "ports": ("containerPort", "port"),
}


class PatchError(Exception):
    """A patch that cannot be applied; the message names the operation and the path."""


def strategic_merge(original: Any, patch: Any) -> Any:
    """Returns `original` with the strategic-merge `patch` applied (neither input is changed)."""
    return _merge_value(copy.deepcopy(original), copy.deepcopy(patch), None)


def _merge_value(original: Any, patch: Any, field: str | None) -> Any:
    if isinstance(patch, dict) and isinstance(original, dict):
        return _merge_map(original, patch)
    if isinstance(patch, list) and isinstance(original, list) and field is not None:
        return _merge_list(original, patch, field)
    if isinstance(patch, dict):
        return _merge_map({}, patch)
    if isinstance(patch, list):
        return [_strip_directives(item) for item in patch if not _is_directive_item(item)]
    return patch


def _merge_map(original: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    directive = patch.pop("$patch", None)
    if directive == "replace":
        return _strip_directives(patch)  # type: ignore[no-any-return]
    if directive == "delete":
        return {}
    if directive not in (None, "merge"):
        raise PatchError(f"Unknown patch type: {directive}")
    for key in [k for k in patch if k.startswith("$setElementOrder/") or k == "$retainKeys"]:
        patch.pop(key)
    for key in [k for k in patch if k.startswith("$deleteFromPrimitiveList/")]:
        field = key.split("/", 1)[1]
        drop = patch.pop(key) or []
        if isinstance(original.get(field), list):
            original[field] = [v for v in original[field] if v not in drop]
    for key, value in patch.items():
        if value is None:
            original.pop(key, None)
        elif key in original:
            original[key] = _merge_value(original[key], value, key)
        else:
            original[key] = _merge_value(None, value, key)
    return original


def _merge_key(field: str, items: list[Any]) -> str | None:
    for key in MERGE_KEYS.get(field, ()):
        if any(isinstance(item, dict) and key in item for item in items):
            return key
    return None


def _is_directive_item(item: Any) -> bool:
    return isinstance(item, dict) and "$patch" in item and len(item) == 1


def _merge_list(original: list[Any], patch: list[Any], field: str) -> list[Any]:
    if any(
        isinstance(item, dict) and item.get("$patch") == "replace" and len(item) == 1
        for item in patch
    ):
        return [_strip_directives(item) for item in patch if not _is_directive_item(item)]
    key = _merge_key(field, original + patch)
    if key is None or not all(isinstance(item, dict) for item in original + patch):
        return [_strip_directives(item) for item in patch if not _is_directive_item(item)]
    # kustomize (kyaml merge2) order: the patch's items first, in its order, then the rest
    result: list[Any] = []
    matched: set[int] = set()
    for item in patch:
        if _is_directive_item(item):
            continue
        index = next(
            (
                i
                for i, existing in enumerate(original)
                if i not in matched and existing.get(key) == item.get(key)
            ),
            None,
        )
        if index is not None:
            matched.add(index)
        if item.get("$patch") == "delete":
            continue
        if index is None:
            result.append(_strip_directives(item))
        else:
            result.append(_merge_map(original[index], dict(item)))
    result.extend(item for i, item in enumerate(original) if i not in matched)
    return result


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _strip_directives(v)
            for k, v in value.items()
            if not k.startswith("$") and v is not None
        }
    if isinstance(value, list):
        return [_strip_directives(v) for v in value]
    return value


# ------------------------------------------------------------------------ JSON 6902


def apply_json6902(document: Any, operations: list[Any]) -> Any:
    """Returns `document` with the RFC 6902 `operations` applied, or raises PatchError."""
    doc = copy.deepcopy(document)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"invalid JSON patch operation: {op!r}")
        kind, path = op["op"], str(op["path"])
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(_value(op)))
        elif kind == "remove":
            doc = _remove(doc, path, kind)
        elif kind == "replace":
            _get(doc, path, kind)
            doc = _remove(doc, path, kind)
            doc = _add(doc, path, copy.deepcopy(_value(op)))
        elif kind in ("move", "copy"):
            source = str(op.get("from", ""))
            value = copy.deepcopy(_get(doc, source, kind))
            if kind == "move":
                doc = _remove(doc, source, kind)
            doc = _add(doc, path, value)
        elif kind == "test":
            if _get(doc, path, kind) != op.get("value"):
                raise PatchError(f"testing value {path} failed: test failed")
        else:
            raise PatchError(f"Unexpected kind: {kind}")
    return doc


def _value(op: dict[str, Any]) -> Any:
    if "value" not in op:
        raise PatchError(f"{op['op']} operation has no value: {op['path']}")
    return op["value"]


def _tokens(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer: {path}")
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def _index(container: list[Any], token: str, path: str, op: str, *, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return len(container)
    if not token.isdigit():
        raise PatchError(
            f"{op} operation does not apply: doc is missing path: {path}: missing value"
        )
    index = int(token)
    limit = len(container) if allow_end else len(container) - 1
    if index > limit:
        raise PatchError(
            f"{op} operation does not apply: doc is missing path: {path}: missing value"
        )
    return index


def _parent(doc: Any, path: str, op: str) -> tuple[Any, str]:
    tokens = _tokens(path)
    if not tokens:
        raise PatchError(f"{op} operation does not apply: cannot {op} the document root")
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, path, op, allow_end=False)]
        else:
            raise PatchError(
                f"{op} operation does not apply: doc is missing path: {path}: missing value"
            )
    return node, tokens[-1]


def _get(doc: Any, path: str, op: str) -> Any:
    node = doc
    for token in _tokens(path):
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, path, op, allow_end=False)]
        else:
            raise PatchError(
                f"{op} operation does not apply: doc is missing path: {path}: missing value"
            )
    return node


def _add(doc: Any, path: str, value: Any) -> Any:
    if path == "":
        return value
    parent, last = _parent(doc, path, "add")
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, path, "add", allow_end=True), value)
    else:
        raise PatchError(
            f"add operation does not apply: doc is missing path: {path}: missing value"
        )
    return doc


def _remove(doc: Any, path: str, op: str) -> Any:
    parent, last = _parent(doc, path, op)
    if isinstance(parent, dict) and last in parent:
        del parent[last]
    elif isinstance(parent, list):
        parent.pop(_index(parent, last, path, op, allow_end=False))
    else:
        raise PatchError(
            f"{op} operation does not apply: doc is missing path: {path}: missing value"
        )
    return doc
