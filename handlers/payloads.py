"""What our buttons and modals carry, typed at the boundary (raw payloads are typed once, here).

A button's `value` and a modal's `private_metadata` are strings we wrote ourselves, but they
come back from the outside: parsing is strict and a bad one is None, never an exception.
They carry ids only; the listener reloads the record before acting on it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ButtonValue:
    promotion_id: int
    sha: str | None = None  # Approve: the head the card showed
    app: str | None = None  # Rollback: what to roll back
    env: str | None = None

    def encode(self) -> str:
        data: dict[str, Any] = {"id": self.promotion_id}
        for key in ("sha", "app", "env"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def decode(cls, raw: object) -> ButtonValue | None:
        data = _object(raw)
        if data is None or not isinstance(data.get("id"), int):
            return None
        return cls(data["id"], _str(data.get("sha")), _str(data.get("app")), _str(data.get("env")))


@dataclass(frozen=True)
class ModalMeta:
    """Which record a modal is about, and the card it was opened from (for answers)."""

    promotion_id: int
    channel: str | None = None
    ts: str | None = None

    def encode(self) -> str:
        return json.dumps(
            {"id": self.promotion_id, "channel": self.channel, "ts": self.ts}, separators=(",", ":")
        )

    @classmethod
    def decode(cls, raw: object) -> ModalMeta | None:
        data = _object(raw)
        if data is None or not isinstance(data.get("id"), int):
            return None
        return cls(data["id"], _str(data.get("channel")), _str(data.get("ts")))


@dataclass(frozen=True)
class RollbackMeta:
    """What the rollback modal is about: the app and env, whether the command said
    `emergency`, and the channel it was asked in (the core checks it; answers go there)."""

    app: str
    env: str
    channel: str | None = None
    emergency: bool = False

    def encode(self) -> str:
        return json.dumps(
            {
                "app": self.app,
                "env": self.env,
                "channel": self.channel,
                "emergency": self.emergency,
            },
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, raw: object) -> RollbackMeta | None:
        data = _object(raw)
        if data is None:
            return None
        app, env = _str(data.get("app")), _str(data.get("env"))
        if not app or not env:
            return None
        return cls(app, env, _str(data.get("channel")), data.get("emergency") is True)


def _object(raw: object) -> dict[str, Any] | None:
    if not isinstance(raw, str) or len(raw) > 3000:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None
