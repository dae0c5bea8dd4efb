"""The words of the promotion card: its header, fields, gate lines, outcome, buttons, footer.

handlers/blocks.py lays these out in Block Kit; the record's facts (typed in the core) are
turned into words only here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC

from handlers import mrkdwn
from handlers.ids import COMMAND, ROLLBACK_COMMAND
from handlers.messages import refusals
from handlers.messages.words import record_name, text, weekday_utc, who
from slackbot.engine import timers
from slackbot.models import GateNote, GateResult, Kind, Promotion, QueueEntry, State
from slackbot.outages import Outage, Problem, Service
from slackbot.pipeline import Waiting
from slackbot.plurals import counted, noun
from slackbot.reasons import Code

STATE_EMOJI = {
    State.REQUESTED: ":inbox_tray:",
    State.PR_OPEN: ":arrows_counterclockwise:",
    State.AWAITING_GATES: ":hourglass_flowing_sand:",
    State.MERGING: ":twisted_rightwards_arrows:",
    State.RECONCILING: ":satellite_antenna:",
    State.DEPLOYED: ":white_check_mark:",
    State.FAILED: ":x:",
    State.REJECTED: ":octagonal_sign:",
    State.CANCELLED: ":no_entry_sign:",
    State.EXPIRED: ":alarm_clock:",
}

BUTTON_APPROVE = "Approve"
BUTTON_REJECT = "Reject"
BUTTON_CANCEL = "Cancel"
BUTTON_RETRY = "Retry"
BUTTON_ROLLBACK = "Rollback"
BUTTON_ADD_PLAN = "Add rollback plan"


BUTTON_ROLL_BACK_ROOT = "Roll back {env}"


def header(record: Promotion) -> str:
    kind = record.kind.value.capitalize()
    if record.rollback is not None:
        spec = record.rollback
        if spec.undoes is not None:
            undone = record_name(Kind.ROLLBACK, spec.undoes)
            return mrkdwn.clip(f"{kind} {record.name}: re-apply what {undone} removed, on "
                               f"{record.env}", 150)
        target = mrkdwn.short(spec.target) or "?"
        through = f", through {record.env}" if spec.asked_env else ""
        return mrkdwn.clip(f"{kind} {record.name}: {record.app} {spec.asked_env or record.env} "
                           f"→ {target}{through}", 150)
    if record.kind is Kind.HOTFIX:
        return mrkdwn.clip(f"{kind} {record.name}: {record.source_branch} → {record.env}", 150)
    return mrkdwn.clip(f"{kind} {record.name}: {record.app} → {record.env}", 150)


def fallback(record: Promotion) -> str:
    return (f"{record.kind.value.capitalize()} {record.name} of {record.app}: "
            f"{text(record.source_branch)} -> {record.target_branch}, {record.state.label}")


def mirror(record: Promotion, channel: str, link: str | None) -> str:
    """The one line in the deploys channel for a card that lives where the incident is."""
    where = mrkdwn.link(link, "its card") if link else "its card"
    return (f":rotating_light: {record.kind.value.capitalize()} {record.name} of {record.app} "
            f"{record.env} is handled in <#{channel}>: follow {where} there.")


def state_line(record: Promotion) -> str:
    return f"{STATE_EMOJI[record.state]} *{record.state.label.capitalize()}*"


def gate_detail(gate: GateResult) -> str:
    """What one gate says about the pinned head."""
    sha = gate.sha[:7]
    match gate.note:
        case GateNote.SOURCE_RUNS_HEAD:
            return f"{gate.env} runs {sha} and is Ready"
        case GateNote.SOURCE_BEHIND:
            return f"{gate.env} has not applied {sha} yet{_until(gate)}"
        case GateNote.SOURCE_NOT_READY:
            if gate.root and gate.root != gate.env:
                return (f"{gate.env} waits on {gate.root}, the first env of its chain that is "
                        f"not Ready ({text(gate.flux_reason or 'no status')}: "
                        f"{text(gate.message)}): {refusals.root_remedy(gate.root)}")
            if gate.until is not None:
                return f"{gate.env} is applying {sha}{_until(gate)}"
            return f"{gate.env} is not Ready: {text(gate.message)}"
        case GateNote.SOURCE_UNKNOWN:
            return f"{gate.env} status unknown"
        case GateNote.CHECK_PASSED:
            return f"{text(gate.check or '')} passed"
        case GateNote.CHECK_FAILED:
            return f"{text(gate.check or '')} failed"
        case GateNote.CHECK_RUNNING:
            return f"{text(gate.check or '')} is running"
        case GateNote.CHECK_MISSING:
            return f"waiting for {text(gate.check or '')}"
        case GateNote.CHANGES_REQUESTED:
            return "changes requested by " + ", ".join(text(u) for u in gate.who)
        case GateNote.REVIEWS_COUNTED:
            return f"{gate.have} of {gate.need} approving {noun(gate.need, 'review')}"
        case GateNote.REVIEWS_REQUESTER_UNKNOWN:
            return (f"{gate.have} of {gate.need} approving {noun(gate.need, 'review')} (the "
                    f"requester's GitHub login is unknown, so their own review cannot be told "
                    f"apart: add them to `githubLogins` in the pipeline file)")
        case GateNote.APPROVALS_COUNTED:
            names = ", ".join(who(u) for u in gate.who)
            if gate.groups:
                shares = ", ".join(f"{g.have} of {g.need} from {mrkdwn.group(g.group)}"
                                   for g in gate.groups)
                return (f"{gate.have} of {gate.need} {noun(gate.need, 'approval')}: {shares}"
                        + (f" ({names})" if names else ""))
            return (f"{gate.have} of {gate.need} stakeholder {noun(gate.need, 'approval')}"
                    + (f" ({names})" if names else ""))
        case GateNote.PLAN_WRITTEN:
            return "rollback plan written"
        case GateNote.PLAN_NEEDED:
            return "rollback plan needed"
        case GateNote.WINDOW_OPEN:
            return "change window open"
        case GateNote.WINDOW_CLOSED:
            opens = weekday_utc(gate.opens) if gate.opens else "later"
            return f"change window closed; opens {opens}"
    return gate.name


def _until(gate: GateResult) -> str:
    if gate.until is None:
        return ""
    return f"; waited for until {mrkdwn.when(gate.until, '{time}')}"


def gates_summary(results: tuple[GateResult, ...]) -> str:
    """Each gate in words (its detail names what it is); never the gate's key (`check:ci`)."""
    return "; ".join(gate_detail(g) for g in results) or "no gates"


def gate_line(gate: GateResult, missing: int = 0) -> str:
    emoji = {"passed": ":white_check_mark:", "failed": ":x:"}.get(gate.status.value,
                                                                  ":hourglass:")
    more = f"; {missing} more needed" if missing > 0 else ""
    return f"{emoji} {gate_detail(gate)}{more}"


def gates_title() -> str:
    return "*Gates*"


def timeline_title() -> str:
    return "*Timeline*"


def earlier_steps(count: int) -> str:
    return f"_… {counted(count, 'earlier step')} in the thread and the audit trail_"


def merge_scheduled_for(record: Promotion) -> str | None:
    if record.merge_not_before is None or not record.live:
        return None
    return (f":calendar: The change window is closed: the merge is scheduled for "
            f"{mrkdwn.when(record.merge_not_before)}.")


def queue_line(line: Sequence[QueueEntry]) -> str | None:
    """Who is next for the env, on its live card."""
    if not line:
        return None
    return (f":busts_in_silhouette: next: {who(line[0].user)}'s request, {len(line)} in queue "
            f"(`{COMMAND} leave {line[0].env}` to leave it)")


def timers_line(record: Promotion, waiting: Waiting | None) -> str | None:
    """The reminder, the escalation and the expiry of a record waiting for its gates."""
    marks = timers.upcoming(record, waiting) if waiting is not None else None
    if waiting is None or marks is None:
        return None
    parts = []
    if record.reminded_at is not None:
        parts.append(f"reminded {mrkdwn.when(record.reminded_at)}")
    elif marks.remind is not None:
        parts.append(f"reminder {mrkdwn.when(marks.remind)}")
    group = mrkdwn.group(waiting.escalate_to) if waiting.escalate_to else ""
    if record.escalated_at is not None:
        parts.append(f"escalated to {group} {mrkdwn.when(record.escalated_at)}")
    elif marks.escalate is not None:
        parts.append(f"escalates to {group} {mrkdwn.when(marks.escalate)}")
    parts.append(f"expires {mrkdwn.when(marks.expire)}")
    return ":bell: " + " · ".join(parts)


def outcome(record: Promotion) -> str | None:
    """The one sentence that ends a finished card (or None while it is live)."""
    if record.state is State.FAILED:
        why = refusals.sentence(record.failure) if record.failure else "no reason recorded"
        return f":x: *Failed:* {why}"
    if record.state is State.REJECTED and record.rejection is not None:
        return (f":octagonal_sign: *Rejected by {who(record.rejection.user)}:* "
                f"{text(record.rejection.reason)}")
    if record.state is State.EXPIRED:
        why = refusals.sentence(record.failure) if record.failure else "waited too long"
        return f":alarm_clock: *Expired:* {why}"
    if record.state is State.DEPLOYED and record.recovered_at is not None:
        return (f":white_check_mark: *Deployed to {record.env}*: recovered at "
                f"{mrkdwn.when(record.recovered_at, '{time}')} after {failed_with(record)} "
                f"(Flux applied it on a retry).")
    if record.state is State.DEPLOYED:
        if record.rollback is not None:
            return _rollback_outcome(record)
        if record.kind is Kind.HOTFIX:
            return (f":white_check_mark: *Hotfix deployed to {record.env}*; the backports to the "
                    f"branches below are in the timeline.")
        return f":white_check_mark: *Deployed to {record.env}.*"
    return None


def failed_with(record: Promotion) -> str:
    """What a recovered record had failed with, in words."""
    failure = record.failure
    if failure is None:
        return "a failure"
    if failure.code is Code.TIMED_OUT:
        return "its timeout"
    if failure.code is Code.ROLLOUT_FAILED:
        return "a failed rollout"
    return text(failure.flux_reason or failure.code.value.replace("_", " "))


def _rollback_outcome(record: Promotion) -> str:
    spec = record.rollback
    assert spec is not None
    up = _promote_up(record.env)
    if spec.undoes is not None:
        undone = record_name(Kind.ROLLBACK, spec.undoes)
        return (f":white_check_mark: *What {undone} removed is back on {record.env}*: {up}.")
    if spec.asked_env is not None:
        return (f":white_check_mark: *The revert is on {record.env}*, the lowest env that had "
                f"the change: {up} to take it to {spec.asked_env}.")
    said = (f":white_check_mark: *{record.env} is back to `{mrkdwn.short(spec.target)}`.* "
            f"Promotions into {record.env} stay on hold until `{COMMAND} unlock {record.env}`; "
            f"`{ROLLBACK_COMMAND} undo {record.name}` brings the change back.")
    if spec.emergency:
        said += " The same revert is carried down to the branches below (timeline)."
    return said


def _promote_up(env: str) -> str:
    return f"promote it up as any change (`{COMMAND} <next env>` from {env})"


def field_requested_by(record: Promotion) -> str:
    return f"*Requested by*\n{who(record.requested_by)}"


def field_route(record: Promotion) -> str:
    if record.direct:
        return f"*Branch*\n`{record.target_branch}` (reverted in place)"
    return f"*Source → target*\n`{text(record.source_branch)}` → `{record.target_branch}`"


def field_head(record: Promotion) -> str:
    if record.rollback is not None:
        target = mrkdwn.short(record.rollback.target)
        was = mrkdwn.short(record.rollback.from_head)
        return f"*Back to*\n`{target}` (from `{was}`)"
    if not record.head_sha:
        return "*Head*\nnot pinned yet"
    return f"*Head*\n{commit_link(record, record.head_sha)}"


def field_pull(record: Promotion) -> str:
    if record.pr_url and record.pr_number is not None:
        return f"*Pull request*\n{mrkdwn.link(record.pr_url, f'#{record.pr_number}')}"
    if record.rollback is not None and record.direct:
        how = "emergency revert" if record.rollback.emergency else "revert"
        return f"*Pull request*\nnone: the {how} is pushed to `{record.target_branch}`"
    return "*Pull request*\nnot opened yet"


def field_reason(record: Promotion) -> str | None:
    if record.rollback is None or not record.rollback.reason:
        return None
    return f"*Reason*\n{mrkdwn.clip(text(record.rollback.reason), 1900)}"


def field_merge(record: Promotion) -> str:
    return f"*Merged as*\n{commit_link(record, record.merge_sha or '')}"


def commit_link(record: Promotion, sha: str) -> str:
    """The short sha, linked to the commit's page on GitHub when the record has a pull request
    to find the repository by; else as code."""
    if record.pr_url and "/pull/" in record.pr_url:
        return mrkdwn.link(f"{record.pr_url.rsplit('/pull/', 1)[0]}/commit/{sha}",
                           mrkdwn.short(sha))
    return f"`{mrkdwn.short(sha)}`"


def field_plan(record: Promotion) -> str:
    return f"*Rollback plan*\n{mrkdwn.clip(text(record.rollback_plan or ''), 1900)}"


def voided_approvals(users: tuple[str, ...]) -> str:
    names = ", ".join(who(u) for u in users)
    return (f":warning: The head moved: the approvals of {names} were for the old head and no "
            f"longer count.")


def footer(record: Promotion) -> str:
    at = record.updated_at or record.requested_at
    return f"Updated {mrkdwn.when(at)} · {record.state.label} · {record.name}"


def confirm_cancel(record: Promotion) -> tuple[str, str, str, str]:
    body = f"{record.name} stops here; its pull request stays open."
    if record.kind is Kind.ROLLBACK:
        body += (f" The hold it placed on {record.env} is lifted with it (a hold someone else "
                 f"placed stays).")
    return (f"Cancel this {record.kind.value}?", body, "Cancel it", "Keep it")


def confirm_approve(record: Promotion) -> tuple[str, str, str, str]:
    return ("Approve this head?",
            f"You approve exactly `{record.short_sha}` going to {record.env}.", "Approve", "Back")


SERVICE_NAMES = {Service.GITHUB: "GitHub", Service.KUBERNETES: "the Kubernetes API"}
PROBLEM_WORDS = {
    Problem.ERRORS: "is answering errors",
    Problem.UNREACHABLE: "is not answering",
    Problem.RATE_LIMITED: "is rate-limiting promotebot",
}


def outage_line(outage: Outage) -> str:
    """"the Kubernetes API is answering errors since 14:02 UTC, retrying", on a live card."""
    name = SERVICE_NAMES[outage.service]
    if outage.target:
        name = f"{name} of cluster {text(outage.target)}"
    since = outage.since.astimezone(UTC).strftime("%H:%M UTC")
    return (f":warning: {name[0].upper()}{name[1:]} {PROBLEM_WORDS[outage.problem]} since "
            f"{since}, retrying.")
