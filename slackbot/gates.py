"""The gates of an env, as pure functions: from what GitHub, Flux and the approvers say about one
commit, to a list of named results bound to that commit (facts, no prose).

No I/O: the engine gathers the facts and calls `evaluate`. Which failures end a promotion (a
required check that failed) and which only wait (changes requested, a closed window) is
decided here too, so the rule can be read in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from slackbot import approvals
from slackbot.models import GateNote, GateResult, GateStatus
from slackbot.pipeline import Gates
from slackbot.ports import KustomizationStatus, Review

SOURCE = "source"
REVIEWS = "reviews"
STAKEHOLDERS = "stakeholders"
ROLLBACK_PLAN = "rollback-plan"
WINDOW = "window"
CHECK_PREFIX = "check:"


@dataclass(frozen=True)
class Facts:
    """Everything the gates of one env need to know about one head commit."""

    sha: str
    now: datetime
    source_env: str | None = None
    source_branch: str | None = None
    source_status: KustomizationStatus | None = None
    checks: dict[str, str] | None = None  # name -> success | failure | pending
    reviews: tuple[Review, ...] = ()
    approvers: tuple[str, ...] = ()
    rollback_plan: str | None = None
    # each approver's groups among those the env counts a share from (gates.approvers.atLeast)
    approver_groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def evaluate(gates: Gates, facts: Facts) -> tuple[GateResult, ...]:
    results: list[GateResult] = []
    sha = facts.sha
    if facts.source_env is not None:
        results.append(_source(facts))
    for name in gates.required_checks:
        state = (facts.checks or {}).get(name)
        status, note = {
            "success": (GateStatus.PASSED, GateNote.CHECK_PASSED),
            "failure": (GateStatus.FAILED, GateNote.CHECK_FAILED),
            None: (GateStatus.PENDING, GateNote.CHECK_MISSING),
        }.get(state, (GateStatus.PENDING, GateNote.CHECK_RUNNING))
        results.append(GateResult(CHECK_PREFIX + name, status, sha, note, check=name))
    if gates.required_reviews > 0:
        results.append(_reviews(gates.required_reviews, facts))
    if gates.stakeholder_approvals > 0:
        rule = gates.approval_rule("")
        counted = approvals.tally(rule, facts.approvers, facts.approver_groups)
        status = GateStatus.PASSED if counted.passed else GateStatus.PENDING
        results.append(GateResult(STAKEHOLDERS, status, sha, GateNote.APPROVALS_COUNTED,
                                  have=counted.have, need=counted.need, who=facts.approvers,
                                  groups=counted.groups))
    if gates.rollback_plan:
        if facts.rollback_plan and facts.rollback_plan.strip():
            results.append(GateResult(ROLLBACK_PLAN, GateStatus.PASSED, sha,
                                      GateNote.PLAN_WRITTEN))
        else:
            results.append(GateResult(ROLLBACK_PLAN, GateStatus.PENDING, sha,
                                      GateNote.PLAN_NEEDED))
    if gates.change_windows:
        if gates.window_open(facts.now):
            results.append(GateResult(WINDOW, GateStatus.PASSED, sha, GateNote.WINDOW_OPEN))
        else:
            results.append(GateResult(WINDOW, GateStatus.PENDING, sha, GateNote.WINDOW_CLOSED,
                                      opens=gates.next_window(facts.now)))
    return tuple(results)


def _source(facts: Facts) -> GateResult:
    env, status, sha = facts.source_env, facts.source_status, facts.sha
    want = f"{facts.source_branch}@sha1:{sha}"
    if status is None:
        return GateResult(SOURCE, GateStatus.PENDING, sha, GateNote.SOURCE_UNKNOWN, env=env)
    if status.last_applied_revision == want and status.settled:
        return GateResult(SOURCE, GateStatus.PASSED, sha, GateNote.SOURCE_RUNS_HEAD, env=env)
    if status.last_applied_revision != want:
        return GateResult(SOURCE, GateStatus.PENDING, sha, GateNote.SOURCE_BEHIND, env=env)
    return GateResult(SOURCE, GateStatus.PENDING, sha, GateNote.SOURCE_NOT_READY, env=env,
                      message=status.message)


def _reviews(required: int, facts: Facts) -> GateResult:
    latest: dict[str, Review] = {}
    for review in facts.reviews:
        if review.state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            latest[review.user] = review
    blocking = tuple(u for u, r in latest.items() if r.state == "CHANGES_REQUESTED")
    approved = tuple(u for u, r in latest.items()
                     if r.state == "APPROVED" and r.commit_sha == facts.sha)
    if blocking:
        return GateResult(REVIEWS, GateStatus.FAILED, facts.sha, GateNote.CHANGES_REQUESTED,
                          who=blocking)
    status = GateStatus.PASSED if len(approved) >= required else GateStatus.PENDING
    return GateResult(REVIEWS, status, facts.sha, GateNote.REVIEWS_COUNTED, have=len(approved),
                      need=required, who=approved)


def terminal_failure(results: tuple[GateResult, ...]) -> GateResult | None:
    """A failed required check ends the promotion; other failures only hold it."""
    return next(
        (r for r in results if r.status is GateStatus.FAILED and r.name.startswith(CHECK_PREFIX)),
        None,
    )


def all_passed(results: tuple[GateResult, ...], ignore: tuple[str, ...] = ()) -> bool:
    return all(r.passed for r in results if r.name not in ignore)
