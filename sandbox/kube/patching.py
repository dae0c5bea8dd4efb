"""The three patch formats the apiserver accepts: JSON merge, JSON patch and strategic merge.

Pure functions from (document, patch) to a new document, raising ApiError with the codes the
apiserver uses (400 for a malformed patch, 422 for a JSON patch that does not apply). They
must not know about storage, validation or which kinds accept which format.
"""

from __future__ import annotations

import copy
from typing import Any

from sandbox.kube.errors import ApiError, bad_request

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

# Lists that strategic merge merges element-wise, by field name -> merge key
# (from the patchMergeKey struct tags of core/v1, apps/v1 and meta/v1).
_MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "ports": "containerPort",
    "imagePullSecrets": "name",
    "conditions": "type",
    "ownerReferences": "uid",
    "hostAliases": "ip",
    "resourceClaims": "name",
    "topologySpreadConstraints": "topologyKey",
    "finalizers": "",  # a set of strings: merged, duplicates dropped
}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str):
        raise bad_request("json: path must be a string")
    if path == "":
        return []
    if not path.startswith("/"):
        raise _unprocessable(f'JSON pointer must be empty or start with a "/": {path}')
    return [_unescape(token) for token in path[1:].split("/")]


def _unprocessable(detail: str) -> ApiError:
    return ApiError(
        422,
        "Invalid",
        "the server rejected our request due to an error in our request",
        {"causes": [{"reason": "FieldValueInvalid", "message": detail}]},
    )


def _container(doc: Any, tokens: list[str], op: str, path: str) -> Any:
    current = doc
    for token in tokens:
        if isinstance(current, dict) and token in current:
            current = current[token]
        elif isinstance(current, list) and token.isdigit() and int(token) < len(current):
            current = current[int(token)]
        else:
            raise _unprocessable(f"{op} operation does not apply: doc is missing path: {path}")
    return current


def _get(doc: Any, path: str, op: str) -> Any:
    tokens = _pointer(path)
    return copy.deepcopy(_container(doc, tokens, op, path)) if tokens else copy.deepcopy(doc)


def _index(token: str, length: int, op: str, path: str, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return length
    if not token.isdigit():
        raise _unprocessable(f"{op} operation does not apply: invalid array index: {path}")
    index = int(token)
    if index > length or (index == length and not allow_end):
        raise _unprocessable(f"{op} operation does not apply: index out of range: {path}")
    return index


def _add(doc: Any, path: str, value: Any, op: str = "add") -> Any:
    tokens = _pointer(path)
    if not tokens:
        return value
    parent = _container(doc, tokens[:-1], op, path)
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(last, len(parent), op, path, allow_end=True), value)
    else:
        raise _unprocessable(f"{op} operation does not apply: doc is missing path: {path}")
    return doc


def _remove(doc: Any, path: str, op: str = "remove") -> Any:
    tokens = _pointer(path)
    if not tokens:
        raise _unprocessable(f"{op} operation does not apply: cannot remove the root")
    parent = _container(doc, tokens[:-1], op, path)
    last = tokens[-1]
    if isinstance(parent, dict) and last in parent:
        del parent[last]
    elif isinstance(parent, list):
        del parent[_index(last, len(parent), op, path, allow_end=False)]
    else:
        raise _unprocessable(f"{op} operation does not apply: doc is missing path: {path}")
    return doc


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902 add, remove, replace, move, copy and test."""
    if not isinstance(operations, list):
        raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
    doc = copy.deepcopy(target)
    for operation in operations:
        if not isinstance(operation, dict):
            raise bad_request("json: cannot unmarshal into Go value of type jsonpatch.Operation")
        op = operation.get("op")
        path = operation.get("path")
        if not isinstance(path, str):
            raise bad_request(f"json: missing or invalid path in {op} operation")
        if op in ("add", "replace", "test") and "value" not in operation:
            raise _unprocessable(f"{op} operation does not apply: missing value")
        if op == "add":
            doc = _add(doc, path, copy.deepcopy(operation["value"]))
        elif op == "remove":
            doc = _remove(doc, path)
        elif op == "replace":
            _get(doc, path, "replace")
            tokens = _pointer(path)
            if not tokens:
                doc = copy.deepcopy(operation["value"])
            else:
                parent = _container(doc, tokens[:-1], "replace", path)
                if isinstance(parent, list):
                    parent[_index(tokens[-1], len(parent), "replace", path, False)] = copy.deepcopy(
                        operation["value"]
                    )
                else:
                    parent[tokens[-1]] = copy.deepcopy(operation["value"])
        elif op in ("move", "copy"):
            source = operation.get("from")
            if not isinstance(source, str):
                raise bad_request(f"json: missing or invalid from in {op} operation")
            value = _get(doc, source, op)
            if op == "move":
                doc = _remove(doc, source, op)
            doc = _add(doc, path, value, op)
        elif op == "test":
            if _get(doc, path, "test") != operation["value"]:
                raise _unprocessable(f"testing value {path} failed: test failed")
        else:
            raise bad_request(f"Unexpected kind: {op}")
    return doc


def _strategic_list(field: str, target: list[Any], patch: list[Any]) -> list[Any]:
    key = _MERGE_KEYS.get(field)
    if key is None:
        return [item for item in copy.deepcopy(patch) if not _is_directive_item(item)]
    if key == "":
        merged = list(target)
        for item in patch:
            if item not in merged:
                merged.append(item)
        return merged
    result = copy.deepcopy(target)
    for item in patch:
        if not isinstance(item, dict):
            raise bad_request(f"unable to find api field in struct for {field}")
        directive = item.get("$patch")
        if directive == "replace":
            return [i for i in copy.deepcopy(patch) if i.get("$patch") != "replace"]
        if key not in item:
            raise bad_request(f"map: {item} does not contain declared merge key: {key}")
        positions = [
            i
            for i, existing in enumerate(result)
            if isinstance(existing, dict) and existing.get(key) == item[key]
        ]
        if directive == "delete":
            result = [e for i, e in enumerate(result) if i not in positions]
        elif positions:
            result[positions[0]] = strategic_merge_patch(result[positions[0]], item)
        else:
            result.append(strategic_merge_patch({}, item))
    return result


def _is_directive_item(item: Any) -> bool:
    return isinstance(item, dict) and "$patch" in item


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Strategic merge for the built-in kinds: lists with a merge key merge element-wise."""
    if not isinstance(patch, dict):
        raise bad_request(
            "json: cannot unmarshal array into Go value of type map[string]interface {}"
        )
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return {}
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key in ("$retainKeys", "$patch"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if isinstance(result.get(field), list) and isinstance(value, list):
                result[field] = [v for v in result[field] if v not in value]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            result[key] = strategic_merge_patch(result.get(key), value)
        elif isinstance(value, list) and isinstance(result.get(key), list):
            result[key] = _strategic_list(key, result[key], value)
        elif isinstance(value, list):
            result[key] = _strategic_list(key, [], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def apply_patch(target: dict[str, Any], patch: Any, content_type: str) -> Any:
    """Applies a patch of the given media type (already checked as accepted for the kind)."""
    if content_type == JSON_PATCH:
        return json_patch(target, patch)
    if content_type == STRATEGIC_MERGE_PATCH:
        return strategic_merge_patch(target, patch)
    if content_type == MERGE_PATCH:
        if not isinstance(patch, dict):
            raise bad_request(
                "json: cannot unmarshal array into Go value of type map[string]interface {}"
            )
        return merge_patch(target, patch)
    raise ApiError(415, "UnsupportedMediaType", f"unsupported patch type {content_type}")
