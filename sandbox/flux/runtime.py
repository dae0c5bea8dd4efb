"""What the simulated controllers share: the time scale, the store they act on, and small helpers.

The simulator runs in-process against sandbox.kube.store.Store; StoreLike names only the
calls it makes, so a controller can be read without the store's code. Intervals, timeouts and
delays are simulated seconds on the simulator's clock (sandbox/flux/clock.py), and nowhere
real ones.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, Protocol

Obj = dict[str, Any]
Key = tuple[str, str]  # (namespace, name)

REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
FINALIZER = "finalizers.fluxcd.io"  # what both controllers add before anything else
INTERVAL_JITTER = 0.05  # --interval-jitter-percentage=5, the controllers' default


def jittered(seconds: float, rng: random.Random) -> float:
    """jitter.JitteredIntervalDuration: a success's requeue, +/- 5 % at random."""
    return seconds * (1.0 + INTERVAL_JITTER * (2.0 * rng.random() - 1.0))


class StoreLike(Protocol):
    def get(self, plural: str, namespace: str | None, name: str) -> Obj: ...
    def list(
        self, plural: str, namespace: str | None = None, label_selector: str | None = None
    ) -> tuple[list[Obj], str]: ...
    def create(self, plural: str, namespace: str | None, obj: Obj) -> Obj: ...
    def replace(self, plural: str, namespace: str | None, name: str, obj: Obj) -> Obj: ...
    def replace_status(self, plural: str, namespace: str | None, name: str, status: Obj) -> Obj: ...
    def delete(self, plural: str, namespace: str | None, name: str) -> Obj: ...
    def subscribe(self, callback: Callable[[str, str, Obj], None]) -> Callable[[], None]: ...


def api_code(exc: BaseException) -> int | None:
    """The HTTP code of a store ApiError (None for anything else)."""
    code = getattr(exc, "code", None)
    return code if isinstance(code, int) else None


def key_of(obj: Obj) -> Key:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


def requested_at(obj: Obj) -> str | None:
    value = ((obj.get("metadata") or {}).get("annotations") or {}).get(REQUESTED_AT)
    return str(value) if value is not None else None


def generation(obj: Obj) -> int:
    return int((obj.get("metadata") or {}).get("generation") or 0)


def get_or_none(store: StoreLike, plural: str, namespace: str | None, name: str) -> Obj | None:
    try:
        return store.get(plural, namespace, name)
    except Exception as exc:
        if api_code(exc) == 404:
            return None
        raise


def split_api_version(api_version: str) -> tuple[str, str]:
    """("apps", "v1") for "apps/v1"; ("", "v1") for the core group."""
    if "/" in api_version:
        group, version = api_version.split("/", 1)
        return group, version
    return "", api_version
