"""metav1.Condition bookkeeping for the simulated controllers, after fluxcd/pkg/runtime/conditions.

As the real Set does: a condition keeps its lastTransitionTime while its status, reason and
message stay the same, takes the object's generation as its observedGeneration, and the list
is ordered Stalled, Reconciling, Ready, then the rest (newer observedGeneration first, then
by type). Pure functions on a status dict; they must not read or write the store.
"""

from __future__ import annotations

from typing import Any

from sandbox.flux.durations import now_rfc3339

READY = "Ready"
RECONCILING = "Reconciling"
STALLED = "Stalled"
HEALTHY = "Healthy"
ARTIFACT_IN_STORAGE = "ArtifactInStorage"
ARTIFACT_OUTDATED = "ArtifactOutdated"
FETCH_FAILED = "FetchFailed"

Status = dict[str, Any]

_WEIGHTS = {STALLED: 0, RECONCILING: 1, READY: 2}


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


def is_unknown(status: Status, type_: str) -> bool:
    condition = get(status, type_)
    return condition is not None and condition.get("status") == "Unknown"


def mark(
    status: Status, type_: str, value: str, reason: str, message: str, generation: int | None
) -> None:
    """Sets condition `type_` ("True", "False" or "Unknown"); its lastTransitionTime moves
    only when status, reason or message change (hasSameState)."""
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
        same = all(existing.get(k) == condition[k] for k in ("status", "reason", "message"))
        if same:
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


def mark_reconciling(status: Status, reason: str, message: str, generation: int) -> None:
    """MarkReconciling: Reconciling=True, and no Stalled beside it."""
    delete(status, STALLED)
    mark(status, RECONCILING, "True", reason, message, generation)


def mark_stalled(status: Status, reason: str, message: str, generation: int) -> None:
    """MarkStalled: Stalled=True, and no Reconciling beside it."""
    delete(status, RECONCILING)
    mark(status, STALLED, "True", reason, message, generation)


def _sort(conditions: list[dict[str, Any]]) -> None:
    """lexicographicLess: Stalled, Reconciling, Ready; then newer observedGeneration, type."""

    def key(c: dict[str, Any]) -> tuple[int, int, int, str]:
        type_ = str(c.get("type", ""))
        if type_ in _WEIGHTS:
            return (0, _WEIGHTS[type_], 0, "")
        return (1, 0, -int(c.get("observedGeneration") or 0), type_)

    conditions.sort(key=key)
