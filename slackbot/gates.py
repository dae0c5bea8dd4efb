"""The gates of an env, as pure functions: from what GitHub, Flux and the approvers say about one
commit, to a list of named results bound to that commit.

No I/O: the engine gathers the facts and calls `evaluate`. Which failures end a promotion (a
required check that failed) and which only wait (changes requested, a closed window) is
decided here too, so the rule can be read in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from slackbot.models import GateResult, GateStatus
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


def evaluate(gates: Gates, facts: Facts) -> tuple[GateResult, ...]:
    results: list[GateResult] = []
    sha = facts.sha
    if facts.source_env is not None:
        results.append(_source(facts))
    for name in gates.required_checks:
        state = (facts.checks or {}).get(name)
        if state == "success":
            results.append(
                GateResult(CHECK_PREFIX + name, GateStatus.PASSED, f"{name} passed", sha))
        elif state == "failure":
            results.append(
                GateResult(CHECK_PREFIX + name, GateStatus.FAILED, f"{name} failed", sha))
        else:
            detail = f"waiting for {name}" if state is None else f"{name} is running"
            results.append(GateResult(CHECK_PREFIX + name, GateStatus.PENDING, detail, sha))
    if gates.required_reviews > 0:
        results.append(_reviews(gates.required_reviews, facts))
    if gates.stakeholder_approvals > 0:
        have = len(facts.approvers)
        need = gates.stakeholder_approvals
        who = ", ".join(f"@{u}" for u in facts.approvers)
        detail = f"{have} of {need} stakeholder approvals" + (f" ({who})" if who else "")
        status = GateStatus.PASSED if have >= need else GateStatus.PENDING
        results.append(GateResult(STAKEHOLDERS, status, detail, sha))
    if gates.rollback_plan:
        if facts.rollback_plan and facts.rollback_plan.strip():
            results.append(
                GateResult(ROLLBACK_PLAN, GateStatus.PASSED, "rollback plan written", sha))
        else:
            results.append(
                GateResult(ROLLBACK_PLAN, GateStatus.PENDING, "rollback plan needed", sha))
    if gates.change_windows:
        if gates.window_open(facts.now):
            detail = "change window open"
            results.append(GateResult(WINDOW, GateStatus.PASSED, detail, sha))
        else:
            opens = gates.next_window(facts.now)
            detail = f"change window closed; opens {opens:%a %Y-%m-%d %H:%M} UTC"
            results.append(GateResult(WINDOW, GateStatus.PENDING, detail, sha))
    return tuple(results)


def _source(facts: Facts) -> GateResult:
    env, status, sha = facts.source_env, facts.source_status, facts.sha
    want = f"{facts.source_branch}@sha1:{sha}"
    if status is None:
        return GateResult(SOURCE, GateStatus.PENDING, f"{env} status unknown", sha)
    if status.last_applied_revision == want and status.settled:
        return GateResult(SOURCE, GateStatus.PASSED, f"{env} runs {sha[:7]} and is Ready", sha)
    if status.last_applied_revision != want:
        detail = f"{env} has not applied {sha[:7]} yet"
    else:
        detail = f"{env} is not Ready: {status.message}"
    return GateResult(SOURCE, GateStatus.PENDING, detail, sha)


def _reviews(required: int, facts: Facts) -> GateResult:
    latest: dict[str, Review] = {}
    for review in facts.reviews:
        if review.state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            latest[review.user] = review
    blocking = [u for u, r in latest.items() if r.state == "CHANGES_REQUESTED"]
    approved = [u for u, r in latest.items() if r.state == "APPROVED" and r.commit_sha == facts.sha]
    if blocking:
        detail = "changes requested by " + ", ".join(blocking)
        return GateResult(REVIEWS, GateStatus.FAILED, detail, facts.sha)
    status = GateStatus.PASSED if len(approved) >= required else GateStatus.PENDING
    detail = f"{len(approved)} of {required} approving reviews"
    return GateResult(REVIEWS, status, detail, facts.sha)


def terminal_failure(results: tuple[GateResult, ...]) -> GateResult | None:
    """A failed required check ends the promotion; other failures only hold it."""
    return next(
        (r for r in results if r.status is GateStatus.FAILED and r.name.startswith(CHECK_PREFIX)),
        None,
    )


def all_passed(results: tuple[GateResult, ...], ignore: tuple[str, ...] = ()) -> bool:
    return all(r.passed for r in results if r.name not in ignore)
