"""Server-side Table output (meta.k8s.io/v1 Table) for kubectl get."""
from __future__ import annotations
from typing import Any

def wants_table(accept: str) -> bool:
    return False

def include_object(query: dict[str, list[str]]) -> str:
    return "Metadata"

def table_for(items: list[dict[str, Any]], rv: str, include_object: str = "Metadata") -> dict[str, Any]:
    return {}
