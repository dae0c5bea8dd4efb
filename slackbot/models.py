"""The domain values the engine works with: promotions (and rollbacks and hotfixes), gates,
approvals and audit events.

Frozen dataclasses, converted to and from plain dicts for the store. No I/O here, and no
Slack, GitHub or Kubernetes words beyond the domain's own (a pull request, a revision).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    PROMOTION = "promotion"
    ROLLBACK = "rollback"
    HOTFIX = "hotfix"


class State(StrEnum):
    REQUESTED = "requested"
    PR_OPEN = "pr_open"
    AWAITING_GATES = "awaiting_gates"
    MERGING = "merging"
    RECONCILING = "reconciling"
    DEPLOYED = "deployed"
    FAILED = "failed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def live(self) -> bool:
        return self in LIVE_STATES

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


LIVE_STATES = frozenset(
    {State.REQUESTED, State.PR_OPEN, State.AWAITING_GATES, State.MERGING, State.RECONCILING}
)
FINAL_STATES = frozenset(State) - LIVE_STATES


class GateStatus(StrEnum):
    PASSED = "passed"
    PENDING = "pending"
    FAILED = "failed"


@dataclass(frozen=True)
class GateResult:
    """One named gate's verdict, valid only for the commit it was computed on."""

    name: str
    status: GateStatus
    detail: str
    sha: str

    @property
    def passed(self) -> bool:
        return self.status is GateStatus.PASSED


@dataclass(frozen=True)
class Approval:
    user: str
    sha: str
    at: datetime


@dataclass(frozen=True)
class Rejection:
    user: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class Promotion:
    """The record of one promotion, rollback or hotfix; the store keeps it, versioned."""

    id: int
    kind: Kind
    app: str
    env: str  # the target env
    source_branch: str  # what is merged into the target branch
    target_branch: str
    requested_by: str
    requested_at: datetime
    state: State = State.REQUESTED
    version: int = 0
    source_env: str | None = None
    head_sha: str | None = None  # the pinned commit being promoted
    pr_number: int | None = None
    pr_url: str | None = None
    merge_sha: str | None = None
    merged_at: datetime | None = None
    reconcile_token: str | None = None
    approvals: tuple[Approval, ...] = ()
    rejection: Rejection | None = None
    rollback_plan: str | None = None
    gates: tuple[GateResult, ...] = ()
    merge_not_before: datetime | None = None  # set while the change window is closed
    failure: str | None = None
    finished_at: datetime | None = None
    updated_at: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def live(self) -> bool:
        return self.state.live

    @property
    def short_sha(self) -> str:
        return (self.head_sha or "")[:7]

    @property
    def expected_revision(self) -> str | None:
        """The Flux revision the target env must apply: `<branch>@sha1:<merge sha>`."""
        return f"{self.target_branch}@sha1:{self.merge_sha}" if self.merge_sha else None

    def approvers(self, sha: str | None = None) -> tuple[str, ...]:
        """Distinct users who approved the given head (default: the pinned head)."""
        wanted = sha or self.head_sha
        seen: list[str] = []
        for approval in self.approvals:
            if approval.sha == wanted and approval.user not in seen:
                seen.append(approval.user)
        return tuple(seen)

    def gate(self, name: str) -> GateResult | None:
        return next((g for g in self.gates if g.name == name), None)

    def replace(self, **changes: Any) -> Promotion:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        encoded: dict[str, Any] = _encode(dataclasses.asdict(self))
        return encoded

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Promotion:
        return cls(
            id=int(data["id"]),
            kind=Kind(data["kind"]),
            app=data["app"],
            env=data["env"],
            source_branch=data["source_branch"],
            target_branch=data["target_branch"],
            requested_by=data["requested_by"],
            requested_at=_dt(data["requested_at"]),
            state=State(data["state"]),
            version=int(data["version"]),
            source_env=data.get("source_env"),
            head_sha=data.get("head_sha"),
            pr_number=data.get("pr_number"),
            pr_url=data.get("pr_url"),
            merge_sha=data.get("merge_sha"),
            merged_at=_opt_dt(data.get("merged_at")),
            reconcile_token=data.get("reconcile_token"),
            approvals=tuple(
                Approval(a["user"], a["sha"], _dt(a["at"])) for a in data.get("approvals", ())
            ),
            rejection=(
                Rejection(r["user"], r["reason"], _dt(r["at"]))
                if (r := data.get("rejection"))
                else None
            ),
            rollback_plan=data.get("rollback_plan"),
            gates=tuple(
                GateResult(g["name"], GateStatus(g["status"]), g["detail"], g["sha"])
                for g in data.get("gates", ())
            ),
            merge_not_before=_opt_dt(data.get("merge_not_before")),
            failure=data.get("failure"),
            finished_at=_opt_dt(data.get("finished_at")),
            updated_at=_opt_dt(data.get("updated_at")),
            extra=dict(data.get("extra", {})),
        )


@dataclass(frozen=True)
class Event:
    """One line of the audit trail: what happened to which record, who did it, when."""

    kind: str  # e.g. "requested", "approved", "merged", "gates", "failed"
    promotion_id: int | None
    app: str
    env: str
    actor: str
    at: datetime
    detail: str = ""

    def to_fields(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "promotion_id": "" if self.promotion_id is None else str(self.promotion_id),
            "app": self.app,
            "env": self.env,
            "actor": self.actor,
            "at": self.at.isoformat(),
            "detail": self.detail,
        }

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> Event:
        pid = fields.get("promotion_id", "")
        return cls(
            kind=fields["kind"],
            promotion_id=int(pid) if pid else None,
            app=fields["app"],
            env=fields["env"],
            actor=fields["actor"],
            at=_dt(fields["at"]),
            detail=fields.get("detail", ""),
        )


@dataclass(frozen=True)
class Block:
    """A freeze or a hold on an env: promotions into it are refused until it is lifted."""

    kind: str  # "freeze" or "hold"
    app: str
    env: str
    by: str
    reason: str
    at: datetime

    def to_dict(self) -> dict[str, str]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in
                dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Block:
        return cls(data["kind"], data["app"], data["env"], data["by"], data["reason"],
                   _dt(data["at"]))


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _opt_dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
