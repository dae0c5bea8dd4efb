"""How source-controller ends a reconcile (its summarize helper and ComputeReconcileResult):
the Reconciling and Stalled conditions settled by the kind of error, Ready summarised from
the owned conditions as fluxcd/pkg/runtime/conditions merges them, observedGeneration, and
the result the work queue acts on (an error is retried with backoff).

Pure functions on a status dict; they must not read or write the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from sandbox.flux import conditions as cond
from sandbox.flux.workqueue import RATE_LIMITED, Result

# gitRepositoryReadyCondition: what Ready summarises, in priority order, and which of those
# are bad news when True
SUMMARIZE = ("StorageOperationFailed", "FetchFailed", "IncludeUnavailable", "ArtifactOutdated",
             "ArtifactInStorage", "SourceVerified", cond.STALLED, cond.RECONCILING)
NEGATIVE = frozenset({"StorageOperationFailed", "FetchFailed", "IncludeUnavailable",
                      "ArtifactOutdated", cond.STALLED, cond.RECONCILING})


class SourceResult(Enum):
    EMPTY = "empty"
    REQUEUE = "requeue"
    SUCCESS = "success"


@dataclass(frozen=True)
class Outcome:
    """What the sub-reconcilers ended with: a result and, maybe, an error of one kind:
    "stalling" (nothing can succeed until the object changes), "generic" (retried),
    "ignore" (no change since the last artifact: a success, quietly)."""

    result: SourceResult
    error: str | None = None
    reason: str = ""
    message: str = ""


def summarize(status: dict[str, Any], generation: int, token: str | None, outcome: Outcome,
              interval: float) -> Result:
    if token is not None:  # RecordReconcileReq
        status["lastHandledReconcileAt"] = token
    # AlwaysRequeueResultBuilder
    result: Result
    if outcome.error == "ignore" or outcome.result is SourceResult.SUCCESS:
        result = interval
    elif outcome.result is SourceResult.REQUEUE:
        result = RATE_LIMITED
    else:
        result = None
    failed = outcome.error in ("generic", "stalling")
    # ComputeReconcileResult
    if outcome.error is None and outcome.result is SourceResult.SUCCESS:
        cond.delete(status, cond.RECONCILING)
    reconciling = cond.get(status, cond.RECONCILING)
    if reconciling is not None and reconciling.get("status") == "True":
        cond.mark(status, cond.RECONCILING, "True", "ProgressingWithRetry",
                  str(reconciling.get("message", "")), generation)
    observed = False
    if outcome.error == "stalling":
        if outcome.result is SourceResult.EMPTY:
            cond.mark_stalled(status, outcome.reason, outcome.message, generation)
            observed, failed = True, False
    elif outcome.error == "ignore":
        cond.delete(status, cond.STALLED)
        cond.delete(status, cond.RECONCILING)
        observed = True
    elif outcome.error is None:
        observed = outcome.result is not SourceResult.REQUEUE
        cond.delete(status, cond.STALLED)
    else:
        cond.delete(status, cond.STALLED)
    ready = ready_summary(status)
    if ready is not None:
        cond.mark(status, cond.READY, *ready, generation)
    if observed and status.get("conditions"):
        status["observedGeneration"] = generation
    if failed:
        return RATE_LIMITED
    if result == interval and not cond.is_true(status, cond.STALLED) and not cond.is_true(
            status, cond.READY):
        return RATE_LIMITED  # isNonStalledSuccess, yet not Ready: an error
    return result


def ready_summary(status: dict[str, Any]) -> tuple[str, str, str] | None:
    """conditions.SetSummary(Ready): (status, reason, message) from the top group of the
    summarised conditions, or None when there are none (Ready is left as it is)."""
    scope = [c for c in status.get("conditions") or []
             if c.get("type") != cond.READY and c.get("type") in SUMMARIZE]
    groups: dict[tuple[str, bool], list[dict[str, Any]]] = {}
    for condition in scope:
        groups.setdefault((str(condition.get("status")), condition["type"] in NEGATIVE),
                          []).append(condition)
    if not groups:
        return None
    (value, negative), members = min(groups.items(), key=lambda item: _priority(*item[0]))
    first = members[0] if len(members) == 1 else next(
        c for p in SUMMARIZE for c in members if c["type"] == p)
    if value == "True":
        target = "False" if negative else "True"
    elif value == "False":
        target = "True" if negative else "False"
    else:
        target = "Unknown"
    return target, str(first.get("reason", "")), str(first.get("message", ""))


def _priority(value: str, negative: bool) -> int:
    if value == "True":
        return 0 if negative else 2
    if value == "False":
        return 3 if negative else 1
    return 4
