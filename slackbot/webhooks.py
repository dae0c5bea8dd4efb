"""GitHub webhook deliveries: the X-Hub-Signature-256 check, and which pull requests, commits
and branches a delivery says changed, so that the records waiting on them are re-evaluated now.

Verification and parsing are pure functions of the bytes and headers. `Deliveries` decides
nothing about gates either: it only finds the live records a change concerns and hands their
ids to a kick callable (the runner re-reads the world), after telling `changed` (the GitHub
adapter's answers about it are stale). The scheduled poll stays the fallback.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from slackbot.models import Promotion

log = logging.getLogger(__name__)

# The events promotebot subscribes to (docs/deploy.md); every other event is ignored. A push
# tells the bot a branch moved (what it knew of that branch is out of date).
EVENTS = frozenset({"pull_request", "pull_request_review", "check_run", "check_suite", "status",
                    "push"})
# The actions that can change a gate's verdict (a check created or in progress leaves its gate
# pending, as it was; a label changes nothing). Status events have no action.
ACTIONS: dict[str, frozenset[str]] = {
    "pull_request": frozenset({"opened", "reopened", "synchronize", "closed", "edited",
                               "ready_for_review", "converted_to_draft"}),
    "pull_request_review": frozenset({"submitted", "edited", "dismissed"}),
    "check_run": frozenset({"completed", "rerequested"}),
    "check_suite": frozenset({"completed", "rerequested"}),
}
SIGNATURE_PREFIX = "sha256="


def signature(secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 value GitHub sends: HMAC-SHA256 of the raw body."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """True only when `header` is the body's signature with `secret` (constant-time compare)."""
    if not secret or not header or not header.startswith(SIGNATURE_PREFIX):
        return False
    return hmac.compare_digest(signature(secret, body).encode(), header.strip().encode())


class PayloadError(ValueError):
    """The delivery's JSON does not have the shape its event promises."""


@dataclass(frozen=True)
class Change:
    """What one delivery says changed in a repository."""

    event: str
    action: str
    repository: str  # "owner/name"
    pulls: frozenset[int] = frozenset()
    shas: frozenset[str] = frozenset()
    branches: frozenset[str] = frozenset()
    # An `edited` delivery that changed only the body: the digest of the new body (the bot
    # knows its own writes by it, and learns nothing from their echo).
    body: str | None = None

    def concerns(self, record: Promotion, repository: str) -> bool:
        """Does this change touch the record (of an app whose repository is `repository`)?"""
        if repository.lower() != self.repository.lower():
            return False
        if record.pr_number is not None and record.pr_number in self.pulls:
            return True
        if record.head_sha is not None and record.head_sha in self.shas:
            return True
        # A pull request the record has not learnt the number of yet, or a push to its source.
        return record.source_branch in self.branches


def parse(event: str, payload: Mapping[str, Any]) -> Change | None:
    """The change a delivery describes; None for events and actions that cannot move a gate.
    PayloadError when a followed event lacks the fields GitHub always sends."""
    if event not in EVENTS:
        return None
    try:
        repository = str(payload["repository"]["full_name"])
        action = str(payload.get("action") or "")
        if event in ACTIONS and action not in ACTIONS[event]:
            return None
        if event in ("pull_request", "pull_request_review"):
            pull = payload["pull_request"]
            edited_body = (event == "pull_request" and action == "edited"
                           and set(payload.get("changes") or {}) == {"body"})
            return Change(
                event, action, repository,
                pulls=frozenset({int(pull["number"])}),
                shas=_strings([pull.get("head", {}).get("sha")]),
                branches=_strings([pull.get("head", {}).get("ref")]),
                body=body_digest(str(pull.get("body") or "")) if edited_body else None,
            )
        if event in ("check_run", "check_suite"):
            item = payload[event]
            suite = item if event == "check_suite" else item.get("check_suite") or {}
            return Change(
                event, action, repository,
                pulls=frozenset(int(p["number"]) for p in item.get("pull_requests") or ()),
                shas=_strings([item.get("head_sha")]),
                branches=_strings([suite.get("head_branch")]),
            )
        if event == "push":
            ref = str(payload["ref"])
            branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None
            return Change(event, action, repository, shas=_strings([payload.get("after")]),
                          branches=_strings([branch]))
        # status: the commit's sha, and the branches whose head it is
        return Change(
            event, action, repository,
            shas=_strings([payload["sha"]]),
            branches=_strings(b.get("name") for b in payload.get("branches") or ()),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PayloadError(f"a {event} delivery without the expected fields ({exc!r})") from exc


def body_digest(body: str) -> str:
    """What a pull request body is known by (its echo in a delivery is compared with it)."""
    return hashlib.sha256(body.encode()).hexdigest()


def _strings(values: Iterable[object]) -> frozenset[str]:
    return frozenset(str(v) for v in values if isinstance(v, str) and v)


class LiveRecords(Protocol):
    def live_all(self) -> list[Promotion]: ...
    def claim_once(self, key: str, ttl_seconds: int = 3600) -> bool: ...


class Deliveries:
    """Accepts verified deliveries: each delivery id acts once; its records are kicked later.

    `accept` is called on the HTTP thread and does one Redis write; the lookup of the live
    records and the kicks run through `defer` so GitHub gets its answer at once."""

    def __init__(
        self,
        store: LiveRecords,
        repository_of: Callable[[str], str],
        kick: Callable[[int], object],
        defer: Callable[[Callable[[], object]], object],
        ttl_seconds: int = 24 * 3600,
        changed: Callable[[Change], object] | None = None,
    ):
        self._store = store
        self._repository_of = repository_of
        self._kick = kick
        self._defer = defer
        self._ttl = ttl_seconds
        self._changed = changed

    def accept(self, delivery: str, change: Change) -> bool:
        """False when this delivery id was already accepted (GitHub redelivers on request)."""
        if not self._store.claim_once(f"github-delivery:{delivery}", self._ttl):
            return False
        self._defer(lambda: self.dispatch(change))
        return True

    def dispatch(self, change: Change) -> list[int]:
        """Tell `changed` (what the bot knew of the repository is out of date), then kick every
        live record the change concerns; their ids."""
        if self._changed is not None:
            self._changed(change)
        kicked = []
        for record in self._store.live_all():
            try:
                repository = self._repository_of(record.app)
            except KeyError:
                continue  # an app no longer in the pipeline
            if change.concerns(record, repository):
                self._kick(record.id)
                kicked.append(record.id)
        log.info("github %s %s: re-evaluating %s", change.event, change.action or "-",
                 ", ".join(f"#{i}" for i in kicked) or "no live promotion")
        return kicked
