"""metav1.Condition bookkeeping for the simulated controllers, after fluxcd/pkg/runtime/conditions.

Setting a condition keeps its lastTransitionTime when the status does not change, as the
real helpers do, so watchers see the same timestamps a controller would write. Pure functions
on a status dict; they must not read or write the store.
"""

from __future__ import annotations

from typing import Any

from sandbox.flux.durations import now_rfc3339

READY = "Ready"
RECONCILING = "Reconciling"
STALLED = "Stalled"
HEALTHY = "Healthy"
ARTIFACT_IN_STORAGE = "ArtifactInStorage"
FETCH_FAILED = "FetchFailed"

Status = dict[str, Any]


def get(status: Status, type_: str) -> dict[str, Any] | None:
    for condition in status.get("conditions") or []:
        if condition.get("type") == type_:
            return condition  # type: ignore[no-any-return]
    return None


def is_true(status: Status, type_: str) -> bool:
    condition = get(status, type_)
    return condition is not None and condition.get("status") == "True"


def is_false(status: Status, type_: str) -> bool:
    condition = get(status, type_)
    return condition is not None and condition.get("status") == "False"


def mark(
    status: Status, type_: str, value: str, reason: str, message: str, generation: int | None
) -> None:
    """Sets condition `type_` ("True", "False" or "Unknown"), keeping lastTransitionTime
    when the status does not change."""
    conditions: list[dict[str, Any]] = status.setdefault("conditions", [])
    existing = get(status, type_)
    condition: dict[str, Any] = {
        "type": type_,
        "status": value,
        "reason": reason,
        "message": message,
        "lastTransitionTime": now_rfc3339(),
    }
    if generation is not None:
        condition["observedGeneration"] = generation
    if existing is not None:
        if existing.get("status") == value:
            condition["lastTransitionTime"] = (
                existing.get("lastTransitionTime") or condition["lastTransitionTime"]
            )
        conditions[conditions.index(existing)] = condition
    else:
        conditions.append(condition)
    _sort(conditions)


def delete(status: Status, type_: str) -> None:
    if status.get("conditions"):
        status["conditions"] = [c for c in status["conditions"] if c.get("type") != type_]


def _sort(conditions: list[dict[str, Any]]) -> None:
    """Ready first, then the abnormal-true ones, then the rest, as Flux's helpers order them."""
    order = {READY: 0, RECONCILING: 1, STALLED: 2}
    conditions.sort(key=lambda c: (order.get(c.get("type", ""), 3), c.get("type", "")))
