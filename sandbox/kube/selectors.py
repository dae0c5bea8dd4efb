"""Label and field selectors, parsed and matched as the apiserver does.

Label selectors support equality (=, ==, !=), set-based (in, notin) and existence (key, !key)
requirements; field selectors support equality on the fields each kind exposes. Parsing errors
are ApiError 400. This module must not know about storage.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.kube.errors import ApiError, bad_request

_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!"
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if self.op in ("=", "in"):
            return present and value in self.values
        # "!=" and "notin" match objects without the key, like the apiserver.
        return not present or value not in self.values


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _check_key(key: str, text: str) -> None:
    if not _KEY.match(key) or len(key.split("/")[-1]) > 63:
        raise bad_request(f"unable to parse requirement: invalid label key {key!r} in {text!r}")


def _check_value(value: str, text: str) -> None:
    if not _VALUE.match(value) or len(value) > 63:
        raise bad_request(
            f"unable to parse requirement: invalid label value: {value!r} in {text!r}"
        )


_SET_RE = re.compile(r"^\s*(\S+)\s+(in|notin)\s*\((.*)\)\s*$")
_EQ_RE = re.compile(r"^\s*([^!=\s]+)\s*(==|!=|=)\s*(\S*)\s*$")


def parse_label_selector(text: str | None) -> list[Requirement]:
    """Parses a label selector string; an empty or missing selector selects everything."""
    if text is None or not text.strip():
        return []
    requirements: list[Requirement] = []
    for raw in _split_top_level(text):
        part = raw.strip()
        if not part:
            raise bad_request(
                f"unable to parse requirement: found '', expected: identifier in {text!r}"
            )
        if match := _SET_RE.match(part):
            key, op, inner = match.group(1), match.group(2), match.group(3)
            _check_key(key, text)
            values = tuple(v.strip() for v in inner.split(",")) if inner.strip() else ()
            for value in values:
                _check_value(value, text)
            requirements.append(Requirement(key, op, values))
        elif match := _EQ_RE.match(part):
            key, op, value = match.group(1), match.group(2), match.group(3)
            _check_key(key, text)
            _check_value(value, text)
            requirements.append(Requirement(key, "!=" if op == "!=" else "=", (value,)))
        elif part.startswith("!"):
            _check_key(part[1:].strip(), text)
            requirements.append(Requirement(part[1:].strip(), "!"))
        else:
            _check_key(part, text)
            requirements.append(Requirement(part, "exists"))
    return requirements


def labels_match(requirements: list[Requirement], obj: dict[str, Any]) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return all(req.matches(labels) for req in requirements)


# Field labels each kind supports beyond metadata.name and metadata.namespace.
_EXTRA_FIELDS: dict[str, tuple[str, ...]] = {
    "pods": (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    ),
    "events": (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
    "namespaces": ("status.phase",),
}


@dataclass(frozen=True)
class FieldRequirement:
    path: str
    negate: bool
    value: str

    def matches(self, obj: dict[str, Any]) -> bool:
        current: Any = obj
        for part in self.path.split("."):
            current = current.get(part) if isinstance(current, dict) else None
        if self.path == "source" and isinstance(current, dict):
            current = current.get("component")
        actual = "" if current is None else str(current)
        return (actual == self.value) != self.negate


def parse_field_selector(plural: str, text: str | None) -> list[FieldRequirement]:
    if text is None or not text.strip():
        return []
    allowed = ("metadata.name", "metadata.namespace", *_EXTRA_FIELDS.get(plural, ()))
    requirements: list[FieldRequirement] = []
    for raw in text.split(","):
        part = raw.strip()
        match = re.match(r"^([^!=]+)(==|!=|=)(.*)$", part)
        if not match:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        path, op, value = match.group(1).strip(), match.group(2), match.group(3).strip()
        if path not in allowed:
            raise bad_request(f"field label not supported: {path}")
        requirements.append(FieldRequirement(path, op == "!=", value))
    return requirements


def fields_match(requirements: list[FieldRequirement], obj: dict[str, Any]) -> bool:
    return all(req.matches(obj) for req in requirements)


def object_filter(
    plural: str, label_selector: str | None, field_selector: str | None
) -> Callable[[dict[str, Any]], bool]:
    """Parses both selectors once (raising ApiError 400) and returns a predicate on objects."""
    labels = parse_label_selector(label_selector)
    fields = parse_field_selector(plural, field_selector)
    return lambda obj: labels_match(labels, obj) and fields_match(fields, obj)


__all__ = ["ApiError", "object_filter", "parse_field_selector", "parse_label_selector"]
