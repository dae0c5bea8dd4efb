"""Writes what a reconcile changed the way Flux's patch helper (fluxcd/pkg/runtime/patch) does:
the status conditions first, then the metadata (finalizers), then the rest of the status, each
as a write of its own. So watchers see the same intermediate objects as on a real cluster:
Ready=True "Applied revision: <new>" one write before lastAppliedRevision changes, a
GitRepository Ready on the new revision one write before its artifact moves.

It decides nothing about what the status is; a write to an object that is gone is dropped.
"""

from __future__ import annotations

import copy

from sandbox.flux.runtime import Obj, StoreLike, api_code


class Patcher:
    """The object as last written by this reconcile; patch() writes what changed since."""

    def __init__(self, store: StoreLike, plural: str, obj: Obj) -> None:
        self._store = store
        self._plural = plural
        meta = obj.get("metadata") or {}
        self._namespace = str(meta.get("namespace") or "") or None
        self._name = str(meta.get("name") or "")
        self._status: Obj = copy.deepcopy(obj.get("status") or {})
        self._finalizers: list[str] = list(meta.get("finalizers") or [])
        self.gone = False

    def patch(self, status: Obj, finalizers: list[str] | None = None) -> None:
        if self.gone:
            return
        try:
            conditions = status.get("conditions") or []
            if conditions != (self._status.get("conditions") or []):
                first = {**copy.deepcopy(self._status), "conditions": copy.deepcopy(conditions)}
                self._store.replace_status(self._plural, self._namespace, self._name, first)
                self._status = first
            if finalizers is not None and finalizers != self._finalizers:
                self._write_finalizers(finalizers)
            if status != self._status:
                self._store.replace_status(
                    self._plural, self._namespace, self._name, copy.deepcopy(status)
                )
                self._status = copy.deepcopy(status)
        except Exception as exc:
            if api_code(exc) != 404:
                raise
            self.gone = True  # deleted meanwhile (or by our own finalizer removal)

    def _write_finalizers(self, finalizers: list[str]) -> None:
        for _ in range(5):  # a conflict: re-read, as a merge patch would apply to the latest
            current = self._store.get(self._plural, self._namespace, self._name)
            current["metadata"]["finalizers"] = list(finalizers)
            if not finalizers:
                current["metadata"].pop("finalizers")
            try:
                self._store.replace(self._plural, self._namespace, self._name, current)
            except Exception as exc:
                if api_code(exc) == 409:
                    continue
                raise
            self._finalizers = list(finalizers)
            return
        raise RuntimeError(f"{self._plural}/{self._name}: finalizers conflict after retries")
