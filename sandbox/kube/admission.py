"""Admission of every write: defaulting, then validation, for built-in kinds and Flux CRDs.

The store calls apply_defaults on each write and validate (its default validator) before it
commits; check_patch_type says which patch media types a kind accepts. This module must not
store anything.
"""

from __future__ import annotations

from typing import Any

from sandbox.kube import builtin_kinds, crds
from sandbox.kube.errors import ApiError, invalid, unsupported_media_type
from sandbox.kube.patching import APPLY_PATCH, JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH
from sandbox.kube.resources import BY_PLURAL, ResourceType


def apply_defaults(plural: str, obj: dict[str, Any], creating: bool) -> None:
    rt = BY_PLURAL[plural]
    if rt.builtin:
        builtin_kinds.apply_defaults(plural, obj, creating)
    else:
        crds.apply_defaults(plural, obj)


def causes(plural: str, obj: dict[str, Any]) -> list[crds.Cause]:
    """Every problem of obj as (reason, field, message); empty when it is valid."""
    rt = BY_PLURAL[plural]
    found = builtin_kinds.validate(plural, obj)
    if not rt.builtin:
        found = [c for c in found if c[1].startswith("metadata")] + crds.validate(plural, obj)
    return found


def validate(plural: str, obj: dict[str, Any]) -> None:
    """Raises ApiError 422 Invalid, worded like the apiserver, when obj is not valid."""
    found = causes(plural, obj)
    if found:
        name = str((obj.get("metadata") or {}).get("name") or "")
        raise invalid(BY_PLURAL[plural], name, found)


def accepted_patch_types(rt: ResourceType) -> list[str]:
    types = [JSON_PATCH, MERGE_PATCH]
    if rt.builtin:
        types.append(STRATEGIC_MERGE_PATCH)
    types.append(APPLY_PATCH)
    return types


def check_patch_type(rt: ResourceType, content_type: str) -> None:
    if content_type == APPLY_PATCH or content_type not in accepted_patch_types(rt):
        raise unsupported_media_type(content_type, accepted_patch_types(rt))


__all__ = ["ApiError", "accepted_patch_types", "apply_defaults", "check_patch_type", "validate"]
