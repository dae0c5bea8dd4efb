"""Server-side Table output (meta.k8s.io/v1 Table) for kubectl get.

kubectl asks for `application/json;as=Table;g=meta.k8s.io;v=v1`; the apiserver answers with the
columns kubectl prints (the CRDs' additionalPrinterColumns, the built-in printers' columns for
Deployments, Pods, Namespaces and Events). This module only formats; it must not read the store.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sandbox.kube import crds
from sandbox.kube.resources import BY_PLURAL, ResourceType

_FILTER = re.compile(r'^\[\?\(@\.(\w+)=="([^"]*)"\)\]$')


def wants_table(accept: str) -> bool:
    for option in accept.split(","):
        params = {p.strip() for p in option.split(";")[1:]}
        if "as=Table" in params and "g=meta.k8s.io" in params:
            return True
    return False


def include_object(query: dict[str, list[str]]) -> str:
    values = query.get("includeObject") or ["Metadata"]
    return values[-1] if values[-1] in ("None", "Metadata", "Object") else "Metadata"


def human_duration(seconds: float) -> str:
    """apimachinery duration.HumanDuration."""
    if seconds < -1:
        return "<invalid>"
    s = max(int(seconds), 0)
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 192:
        rest = hours % 24
        return f"{days}d{rest}h" if rest else f"{days}d"
    if days < 730:
        return f"{days}d"
    years = days // 365
    if years < 8:
        rest = days % 365
        return f"{years}y{rest}d" if rest else f"{years}y"
    return f"{years}y"


def age(timestamp: Any) -> str:
    if not isinstance(timestamp, str):
        return "<unknown>"
    try:
        when = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return "<unknown>"
    return human_duration((datetime.now(UTC) - when).total_seconds())


def json_path(obj: Any, path: str) -> Any:
    """The small subset of JSONPath the CRD printer columns use: .a.b and [?(@.k=="v")]."""
    current: Any = obj
    for token in re.findall(r'\.[A-Za-z0-9_]+|\[\?\(@\.\w+=="[^"]*"\)\]', path):
        if token.startswith("."):
            current = current.get(token[1:]) if isinstance(current, dict) else None
        else:
            match = _FILTER.match(token)
            assert match is not None
            key, value = match.groups()
            found = (
                [i for i in current or [] if isinstance(i, dict) and i.get(key) == value]
                if isinstance(current, list)
                else []
            )
            current = found[0] if found else None
        if current is None:
            return None
    return current


def _column(name: str, kind: str = "string", priority: int = 0, fmt: str = "") -> dict[str, Any]:
    return {"name": name, "type": kind, "format": fmt, "description": name, "priority": priority}


def _deployment(obj: dict[str, Any]) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    template = (spec.get("template") or {}).get("spec") or {}
    containers = [c for c in template.get("containers") or [] if isinstance(c, dict)]
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    return [
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
        age(obj["metadata"].get("creationTimestamp")),
        ",".join(str(c.get("name", "")) for c in containers),
        ",".join(str(c.get("image", "")) for c in containers),
        ",".join(f"{k}={v}" for k, v in selector.items()),
    ]


def _pod(obj: dict[str, Any]) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    statuses = [s for s in status.get("containerStatuses") or [] if isinstance(s, dict)]
    reason = status.get("reason") or status.get("phase") or "Unknown"
    for container in statuses:
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason"):
            reason = waiting["reason"]
    if obj["metadata"].get("deletionTimestamp"):
        reason = "Terminating"
    ready = sum(1 for s in statuses if s.get("ready"))
    return [
        f"{ready}/{len(spec.get('containers') or [])}",
        reason,
        sum(int(s.get("restartCount", 0)) for s in statuses),
        age(obj["metadata"].get("creationTimestamp")),
        status.get("podIP") or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        "<none>",
    ]


def _namespace(obj: dict[str, Any]) -> list[Any]:
    return [
        (obj.get("status") or {}).get("phase", ""),
        age(obj["metadata"].get("creationTimestamp")),
    ]


def _event(obj: dict[str, Any]) -> list[Any]:
    involved = obj.get("involvedObject") or {}
    last = (
        obj.get("lastTimestamp") or obj.get("eventTime") or obj["metadata"].get("creationTimestamp")
    )
    return [
        age(last),
        obj.get("type", ""),
        obj.get("reason", ""),
        f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}",
        obj.get("message", ""),
    ]


def _quota(obj: dict[str, Any]) -> list[Any]:
    """kubectl's REQUEST and LIMIT: "used/hard" per resource, from the status a controller
    writes (empty until one has)."""
    status = obj.get("status") or {}
    hard, used = status.get("hard") or {}, status.get("used") or {}
    cells: dict[str, list[str]] = {"request": [], "limit": []}
    for name in sorted(hard):
        side = "limit" if name.startswith("limits.") else "request"
        cells[side].append(f"{name}: {used.get(name, '0')}/{hard[name]}")
    return [age(obj["metadata"].get("creationTimestamp")), ", ".join(cells["request"]),
            ", ".join(cells["limit"])]


def _selector_text(selector: dict[str, Any]) -> str:
    """metav1.FormatLabelSelector: "<none>" for the empty selector (every pod)."""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op = expr.get("key", ""), expr.get("operator", "")
        values = ",".join(expr.get("values") or [])
        parts.append({"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})",
                      "Exists": key, "DoesNotExist": f"!{key}"}.get(op, key))
    return ",".join(parts) or "<none>"


def _network_policy(obj: dict[str, Any]) -> list[Any]:
    return [_selector_text((obj.get("spec") or {}).get("podSelector") or {}),
            age(obj["metadata"].get("creationTimestamp"))]


_BUILTIN: dict[str, tuple[list[dict[str, Any]], Any]] = {
    "deployments": (
        [
            _column("Ready"),
            _column("Up-to-date", "integer"),
            _column("Available", "integer"),
            _column("Age"),
            _column("Containers", priority=1),
            _column("Images", priority=1),
            _column("Selector", priority=1),
        ],
        _deployment,
    ),
    "pods": (
        [
            _column("Ready"),
            _column("Status"),
            _column("Restarts", "string"),
            _column("Age"),
            _column("IP", priority=1),
            _column("Node", priority=1),
            _column("Nominated Node", priority=1),
            _column("Readiness Gates", priority=1),
        ],
        _pod,
    ),
    "namespaces": ([_column("Status"), _column("Age")], _namespace),
    "resourcequotas": ([_column("Age"), _column("Request"), _column("Limit")], _quota),
    "networkpolicies": ([_column("Pod-Selector"), _column("Age")], _network_policy),
    "events": (
        [
            _column("Last Seen"),
            _column("Type"),
            _column("Reason"),
            _column("Object"),
            _column("Message"),
        ],
        _event,
    ),
}


def _columns_and_cells(
    rt: ResourceType, obj: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[Any]]:
    name = _column("Name", fmt="name")
    if rt.plural in _BUILTIN:
        columns, cells = _BUILTIN[rt.plural]
        return [name, *columns], [obj["metadata"].get("name", ""), *cells(obj)]
    columns, values = [name], [obj["metadata"].get("name", "")]
    for column in crds.printer_columns(rt.plural, rt.version):
        columns.append(
            _column(column["name"], column.get("type", "string"), int(column.get("priority", 0)))
        )
        value = json_path(obj, column["jsonPath"])
        if column.get("type") == "date":
            value = age(value) if value is not None else "<unknown>"
        values.append("" if value is None else value)
    return columns, values


def _row_object(obj: dict[str, Any], include: str) -> dict[str, Any] | None:
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata", {}),
    }


def table_for(
    items: list[dict[str, Any]],
    rv: str,
    include_object: str = "Metadata",
    plural: str | None = None,
) -> dict[str, Any]:
    """A Table of items (all of one kind; plural names it when items is empty)."""
    kind_plural = plural
    if kind_plural is None and items:
        kind = items[0].get("kind")
        kind_plural = next((p for p, rt in BY_PLURAL.items() if rt.kind == kind), None)
    rt = BY_PLURAL.get(kind_plural or "")
    columns: list[dict[str, Any]] = [_column("Name", fmt="name")]
    if rt is not None:
        columns = _columns_and_cells(rt, {"metadata": {}})[0]
    rows = []
    for obj in items:
        if rt is None:
            break
        cells = _columns_and_cells(rt, obj)[1]
        row: dict[str, Any] = {"cells": cells}
        row_object = _row_object(obj, include_object)
        if row_object is not None:
            row["object"] = row_object
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": rv},
        "columnDefinitions": columns,
        "rows": rows,
    }
