"""The real Flux CRDs as the emulator's schema: load, default, prune and validate.

Loads the CRD YAML files shipped in sandbox/kube/crds/ (copies of kustomize-controller v1.9.4
and source-controller v1.9.1, so a clean clone needs nothing beside the repository) and checks
objects against their openAPIV3Schema with jsonschema, reporting errors as the apiserver words
them. It must not store objects or know about HTTP.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import yaml

CRD_DIR = Path(__file__).parent / "crds"

# (reason, field, message), as field.ErrorList entries.
Cause = tuple[str, str, str]

_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")

# The CEL rules the two CRDs carry, evaluated in Python (no CEL engine here).
_CEL: dict[str, Callable[[dict[str, Any]], bool]] = {
    "has(self.configMapRef) || has(self.secretRef)": lambda s: (
        "configMapRef" in s or "secretRef" in s
    ),
    "!has(self.configMapRef) || !has(self.secretRef)": lambda s: (
        "configMapRef" not in s or "secretRef" not in s
    ),
    "!has(self.serviceAccountName) || (has(self.provider) && (self.provider == 'azure' "
    "|| self.provider == 'aws'))": lambda s: (
        "serviceAccountName" not in s or s.get("provider") in ("azure", "aws")
    ),
}


@functools.cache
def load_crds() -> dict[str, dict[str, Any]]:
    """CRD documents by plural, read once from the package data."""
    crds: dict[str, dict[str, Any]] = {}
    for path in sorted(CRD_DIR.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc.get("kind") == "CustomResourceDefinition":
                crds[doc["spec"]["names"]["plural"]] = doc
    return crds


def schema_for(plural: str, version: str = "v1") -> dict[str, Any] | None:
    crd = load_crds().get(plural)
    if crd is None:
        return None
    for served in crd["spec"]["versions"]:
        if served["name"] == version:
            return served["schema"]["openAPIV3Schema"]  # type: ignore[no-any-return]
    return None


def printer_columns(plural: str, version: str = "v1") -> list[dict[str, Any]]:
    crd = load_crds().get(plural)
    for served in (crd or {}).get("spec", {}).get("versions", []):
        if served["name"] == version:
            return list(served.get("additionalPrinterColumns", []))
    return []


def _walk_defaults(schema: dict[str, Any], value: Any) -> None:
    """Applies `default`s and prunes fields the schema does not know, like the apiserver."""
    if isinstance(value, dict):
        properties = schema.get("properties")
        if properties is not None and not schema.get("x-kubernetes-preserve-unknown-fields"):
            for key in [k for k in value if k not in properties]:
                del value[key]
        for key, sub in (properties or {}).items():
            if key not in value and "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
            if key in value:
                _walk_defaults(sub, value[key])
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for item in value.values():
                _walk_defaults(extra, item)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            _walk_defaults(schema["items"], item)


def apply_defaults(plural: str, obj: dict[str, Any]) -> None:
    schema = schema_for(plural)
    if schema is None:
        return
    for key in ("spec", "status"):
        sub = schema.get("properties", {}).get(key)
        if sub is None:
            continue
        if key not in obj and "default" in sub:
            obj[key] = copy.deepcopy(sub["default"])
        if key in obj:
            _walk_defaults(sub, obj[key])
    for key in [k for k in obj if k not in ("apiVersion", "kind", "metadata", "spec", "status")]:
        if key not in schema.get("properties", {}):
            del obj[key]


def _field(path: list[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _go_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value)
    return (
        '"object"'
        if isinstance(value, dict)
        else '"array"'
        if isinstance(value, list)
        else '"null"'
    )


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object" if isinstance(value, dict) else "array"


def _cause(error: jsonschema.ValidationError) -> list[Cause]:
    path = list(error.absolute_path)
    field = _field(path)
    keyword, expected, value = error.validator, error.validator_value, error.instance
    if keyword == "required":
        missing = [name for name in expected if isinstance(value, dict) and name not in value]
        return [("FieldValueRequired", _field([*path, name]), "Required value") for name in missing]
    if keyword == "type":
        types = expected if isinstance(expected, str) else ", ".join(expected)
        actual = _type_name(value)
        message = f'Invalid value: "{actual}": {field} in body must be of type {types}: "{actual}"'
        return [("FieldValueTypeInvalid", field, message)]
    if keyword == "pattern":
        message = f"Invalid value: {_go_value(value)}: {field} in body should match '{expected}'"
        return [("FieldValueInvalid", field, message)]
    if keyword == "enum":
        supported = ", ".join(json.dumps(v) for v in expected)
        message = f"Unsupported value: {_go_value(value)}: supported values: {supported}"
        return [("FieldValueNotSupported", field, message)]
    if keyword == "maxLength":
        return [("FieldValueTooLong", field, f"Too long: may not be more than {expected} bytes")]
    if keyword == "minLength":
        message = (
            f"Invalid value: {_go_value(value)}: {field} in body should be at least "
            f"{expected} chars long"
        )
        return [("FieldValueInvalid", field, message)]
    if keyword == "maxItems":
        return [
            (
                "FieldValueTooMany",
                field,
                f"Too many: {len(value)}: must have at most {expected} items",
            )
        ]
    if keyword == "minItems":
        return [
            (
                "FieldValueInvalid",
                field,
                f"Invalid value: {len(value)}: {field} in body should have at least "
                f"{expected} items",
            )
        ]
    if keyword == "minimum":
        return [
            (
                "FieldValueInvalid",
                field,
                f"Invalid value: {_go_value(value)}: {field} in "
                f"body should be greater than or equal to {expected}",
            )
        ]
    if keyword == "maximum":
        return [
            (
                "FieldValueInvalid",
                field,
                f"Invalid value: {_go_value(value)}: {field} in "
                f"body should be less than or equal to {expected}",
            )
        ]
    if keyword == "format":
        return [
            (
                "FieldValueInvalid",
                field,
                f"Invalid value: {_go_value(value)}: {field} in "
                f"body must be of type {expected}: {_go_value(value)}",
            )
        ]
    return [("FieldValueInvalid", field, f"Invalid value: {_go_value(value)}: {error.message}")]


_FORMATS = jsonschema.FormatChecker(formats=())


def _is_date_time(value: object) -> bool:
    return not isinstance(value, str) or bool(_DATE_TIME.match(value))


_FORMATS.checks("date-time")(_is_date_time)


@functools.cache
def _validator(plural: str) -> jsonschema.protocols.Validator | None:
    schema = schema_for(plural)
    if schema is None:
        return None
    body = {k: v for k, v in schema.items() if k != "properties"}
    body["properties"] = {k: v for k, v in schema["properties"].items() if k != "metadata"}
    return jsonschema.Draft7Validator(body, format_checker=_FORMATS)


def _cel_causes(schema: dict[str, Any], value: Any, path: list[str | int]) -> list[Cause]:
    causes: list[Cause] = []
    if isinstance(value, dict):
        for rule in schema.get("x-kubernetes-validations", []):
            check = _CEL.get(rule["rule"])
            if check is not None and not check(value):
                causes.append(
                    (
                        "FieldValueInvalid",
                        _field(path),
                        f'Invalid value: "object": {rule["message"]}',
                    )
                )
        for key, sub in (schema.get("properties") or {}).items():
            if key in value:
                causes.extend(_cel_causes(sub, value[key], [*path, key]))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            causes.extend(_cel_causes(schema["items"], item, [*path, index]))
    return causes


def validate(plural: str, obj: dict[str, Any]) -> list[Cause]:
    """Every schema violation of obj (spec and status), worded as the apiserver does."""
    validator = _validator(plural)
    schema = schema_for(plural)
    if validator is None or schema is None:
        return []
    body = {k: v for k, v in obj.items() if k != "metadata"}
    causes: list[Cause] = []
    for error in sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.path))):
        causes.extend(_cause(error))
    if not causes:
        causes.extend(_cel_causes(schema, body, []))
    return causes
