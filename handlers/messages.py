"""Every sentence promotebot shows in Slack, as small functions, so wording is reviewed here.

Sentences from the engine (DomainError texts, event details) arrive as plain text naming
people `@<id>`; `mrkdwn.sentence` makes them safe. Nothing here may show the text of an
unexpected exception: those get `generic_error(reference)` and a log line instead.
"""

from __future__ import annotations

from handlers import mrkdwn
from handlers.ids import COMMAND
from slackbot.models import Event, Promotion, State
from slackbot.pipeline import App

# -- answers to commands and clicks ---------------------------------------------------------


def working(what: str) -> str:
    return f":hourglass_flowing_sand: On it: {what}…"


def working_promote(env: str, app: str | None) -> str:
    target = f"{app} to {env}" if app else env
    return working(f"checking that {target} can be promoted")


def working_status(app: str | None) -> str:
    return working(f"reading the status of {app}" if app else "reading the status")


def generic_error(reference: str) -> str:
    return (
        f":warning: Something went wrong on promotebot's side (reference `{reference}`). "
        f"Nothing more was done. Try again in a minute; if it keeps failing, give the platform "
        f"team this reference."
    )


def refused(reason: str) -> str:
    return f":no_entry: {mrkdwn.sentence(reason)}"


def promotion_started(record: Promotion, channel: str) -> str:
    return (
        f":rocket: Promotion #{record.id} of {record.app} to {record.env} "
        f"({record.source_branch}@{record.short_sha}) has started: follow it in <#{channel}>."
    )


def retry_started(old: Promotion, new: Promotion, channel: str) -> str:
    return (
        f":repeat: Retrying #{old.id} as #{new.id} ({new.source_branch}@{new.short_sha} -> "
        f"{new.target_branch}): follow it in <#{channel}>."
    )


def approved(record: Promotion) -> str:
    return f":white_check_mark: You approved #{record.id} at `{record.short_sha}`."


def cancelled(record: Promotion) -> str:
    return f":no_entry_sign: You cancelled #{record.id}."


def rejected(record: Promotion) -> str:
    return f":octagonal_sign: You rejected #{record.id}; the requester sees your reason."


def plan_saved(record: Promotion) -> str:
    where = " and in the pull request" if record.pr_number else ""
    return f":memo: The rollback plan of #{record.id} is saved on the card{where}."


def rollback_coming(app: str, env: str) -> str:
    return (
        f":leftwards_arrow_with_hook: Rolling back {app} in {env} is done with "
        f"`/rollback {env}`, which is not available yet. Until then, revert the merge on the "
        f"{env} branch by hand and let Flux apply it."
    )


def unlock_coming(env: str) -> str:
    return (
        f":lock: `{COMMAND} unlock {env}` lifts a hold that a rollback puts on {env}; it comes "
        f"with the rollback flow and is not available yet."
    )


def frozen(app: str, env: str, user: str, reason: str) -> str:
    return (
        f":ice_cube: {mrkdwn.user(user)} froze {env} of {app}: {mrkdwn.escape(reason)}. "
        f"Promotions into {env} are refused until `{COMMAND} unfreeze {env}`."
    )


def unfrozen(app: str, env: str, user: str) -> str:
    return f":sunny: {mrkdwn.user(user)} unfroze {env} of {app}: promotions into it are open again."


def not_frozen(app: str, env: str) -> str:
    return f":information_source: {env} of {app} was not frozen: nothing to do."


def cancel_requested(record: Promotion) -> str:
    return cancelled(record)


def stale_button() -> str:
    return (
        ":warning: This button does not belong to a promotion promotebot knows. "
        f"Use `{COMMAND} status` to see what is running."
    )


def empty_reason() -> str:
    return "Say why you reject it, so the requester knows what to change."


def empty_plan() -> str:
    return "Write how to undo this change (for example: revert the merge commit on prod)."


# -- parsing -----------------------------------------------------------------------------


def unknown_subcommand(word: str, suggestion: str) -> str:
    return (
        f":grey_question: `{COMMAND} {mrkdwn.escape(word)}` is not a command: did you mean "
        f"`{COMMAND} {suggestion}`? `{COMMAND} help` lists them all."
    )


def usage(form: str, problem: str) -> str:
    return f":grey_question: {problem}: use `{COMMAND} {form}`."


# -- help ----------------------------------------------------------------------------------

HELP_TITLE = "promotebot: promote through dev → staging → prod"

HELP_LINES = (
    (
        f"{COMMAND} <env> [app]",
        "promote into <env> from the env before it (opens or reuses the "
        "pull request and posts a card here)",
    ),
    (
        f"{COMMAND} status [app]",
        "per env: branch head, applied revision, Ready, pods, live promotion, commits waiting",
    ),
    (f"{COMMAND} freeze <env> [reason]", "refuse promotions into <env> until unfrozen"),
    (f"{COMMAND} unfreeze <env>", "lift a freeze"),
    (f"{COMMAND} unlock <env>", "lift a rollback's hold (comes with /rollback)"),
    (f"{COMMAND} cancel <id>", "cancel a promotion that has not merged yet"),
    (f"{COMMAND} help", "this help"),
)


def help_fallback() -> str:
    return HELP_TITLE + "\n" + "\n".join(f"{form}: {what}" for form, what in HELP_LINES)


def help_footer() -> str:
    return (
        "The app may be left out when the channel belongs to one app. Buttons on each card: "
        "Approve / Reject (stakeholders), Add rollback plan, Cancel, Retry, Rollback."
    )


# -- the promotion card --------------------------------------------------------------------

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


def card_header(record: Promotion) -> str:
    kind = record.kind.value.capitalize()
    return mrkdwn.clip(f"{kind} #{record.id}: {record.app} → {record.env}", 150)


def card_fallback(record: Promotion) -> str:
    return (
        f"{record.kind.value.capitalize()} #{record.id} of {record.app}: "
        f"{record.source_branch} -> {record.target_branch}, {record.state.label}"
    )


def state_line(record: Promotion) -> str:
    return f"{STATE_EMOJI[record.state]} *{record.state.label.capitalize()}*"


def gate_line(status: str, detail: str) -> str:
    emoji = {"passed": ":white_check_mark:", "failed": ":x:"}.get(status, ":hourglass:")
    return f"{emoji} {mrkdwn.sentence(detail)}"


def gates_title() -> str:
    return "*Gates*"


def timeline_title() -> str:
    return "*Timeline*"


def earlier_steps(count: int) -> str:
    return f"_… {count} earlier steps in the thread and the audit trail_"


def merge_scheduled_for(record: Promotion) -> str | None:
    if record.merge_not_before is None or not record.live:
        return None
    return (
        f":calendar: The change window is closed: the merge is scheduled for "
        f"{mrkdwn.when(record.merge_not_before)}."
    )


def outcome(record: Promotion) -> str | None:
    """The one sentence that ends a finished card (or None while it is live or deployed)."""
    if record.state is State.FAILED:
        return f":x: *Failed:* {mrkdwn.sentence(record.failure or 'no reason recorded')}"
    if record.state is State.REJECTED and record.rejection is not None:
        return (
            f":octagonal_sign: *Rejected by {mrkdwn.user(record.rejection.user)}:* "
            f"{mrkdwn.escape(record.rejection.reason)}"
        )
    if record.state is State.EXPIRED:
        return f":alarm_clock: *Expired:* {mrkdwn.sentence(record.failure or 'waited too long')}"
    if record.state is State.DEPLOYED:
        return f":white_check_mark: *Deployed to {record.env}.*"
    return None


def timeline_line(event: Event, record: Promotion) -> str | None:
    """One step of the card's timeline, or None for events the card does not list."""
    at = mrkdwn.when(event.at, "{time}")
    detail = mrkdwn.sentence(event.detail)
    who = mrkdwn.user(event.actor)
    text = {
        "requested": f":inbox_tray: Requested by {who}: {detail}",
        "pr_opened": _pr_line(event, record),
        "awaiting_gates": ":hourglass_flowing_sand: Waiting for the gates",
        "approved": f":+1: Approved by {who} at "
        f"`{mrkdwn.escape(event.detail.removeprefix('approved '))}`",
        "rollback_plan": f":memo: Rollback plan written by {who}",
        "head_moved": f":warning: {detail}",
        "merge_scheduled": f":calendar: Change window closed: {detail}",
        "gates_passed": ":white_check_mark: Every gate is green",
        "merging": f":twisted_rightwards_arrows: Merging `{record.short_sha}`",
        "merged": f":twisted_rightwards_arrows: Merged `{mrkdwn.short(event.detail)}`; "
        f"reconcile requested",
        "progress": f":satellite_antenna: {_progress(event.detail)}",
        "deployed": f":rocket: Deployed: {detail}",
        "failed": f":x: Failed: {detail}",
        "rejected": f":octagonal_sign: Rejected by {who}: {mrkdwn.escape(event.detail)}",
        "cancelled": f":no_entry_sign: Cancelled by {who}",
        "expired": f":alarm_clock: Expired: {detail}",
    }.get(event.kind)
    return f"{at}  {text}" if text else None


def _pr_line(event: Event, record: Promotion) -> str:
    verb = "adopted" if event.detail.startswith("adopted") else "opened"
    if record.pr_url and record.pr_number is not None:
        pull = mrkdwn.link(record.pr_url, f"#{record.pr_number}")
        return f":arrows_counterclockwise: Pull request {pull} {verb}"
    return f":arrows_counterclockwise: Pull request {verb}: {mrkdwn.sentence(event.detail)}"


def _progress(detail: str) -> str:
    if detail.startswith("waiting for a dependency"):
        return f"Waiting for a dependency: {mrkdwn.sentence(detail.partition(': ')[2])}"
    if detail.startswith("rollout"):
        return f"Rollout: {mrkdwn.sentence(detail.partition(': ')[2])}"
    if detail.startswith("source fetched"):
        return f"Reconciling: {mrkdwn.sentence(detail)}"
    return f"Reconciling: {mrkdwn.sentence(detail)}"


def thread_detail(event: Event, record: Promotion) -> str | None:
    """The thread reply an event deserves (details stay out of the card), or None."""
    detail = mrkdwn.sentence(event.detail)
    if event.kind in ("awaiting_gates", "gates"):
        return f":clipboard: Gates on `{record.short_sha}`: {detail}"
    if event.kind == "merge_scheduled":
        return f":calendar: Outside the change window: {detail}"
    if event.kind == "head_moved":
        return f":warning: {detail}"
    if event.kind == "approved":
        return f":+1: {mrkdwn.user(event.actor)} approved `{record.short_sha}`"
    if event.kind == "rollback_plan":
        quoted = "\n".join(f">{line}" for line in mrkdwn.escape(event.detail).splitlines())
        return f":memo: Rollback plan by {mrkdwn.user(event.actor)}:\n{quoted}"
    if event.kind == "merged":
        merge = mrkdwn.short(event.detail)
        return f":twisted_rightwards_arrows: Merged as `{merge}`; Flux asked to reconcile"
    if event.kind == "progress":
        return f":satellite_antenna: {_progress(event.detail)}"
    if event.kind == "deployed":
        return f":rocket: {detail}"
    if event.kind == "failed":
        return f":x: {mrkdwn.sentence(record.failure or event.detail)}"
    if event.kind == "rejected":
        who = mrkdwn.user(event.actor)
        return f":octagonal_sign: Rejected by {who}: {mrkdwn.escape(event.detail)}"
    if event.kind == "cancelled":
        return f":no_entry_sign: Cancelled by {mrkdwn.user(event.actor)}"
    if event.kind == "expired":
        return f":alarm_clock: {detail}"
    return None


def field_requested_by(record: Promotion) -> str:
    return f"*Requested by*\n{mrkdwn.user(record.requested_by)}"


def field_route(record: Promotion) -> str:
    return f"*Source → target*\n`{record.source_branch}` → `{record.target_branch}`"


def field_head(record: Promotion) -> str:
    return f"*Head*\n`{record.short_sha or 'not pinned yet'}`"


def field_pull(record: Promotion) -> str:
    if record.pr_url and record.pr_number is not None:
        return f"*Pull request*\n{mrkdwn.link(record.pr_url, f'#{record.pr_number}')}"
    return "*Pull request*\nnot opened yet"


def field_merge(record: Promotion) -> str:
    return f"*Merged as*\n`{mrkdwn.short(record.merge_sha)}`"


def field_plan(record: Promotion) -> str:
    return f"*Rollback plan*\n{mrkdwn.clip(mrkdwn.escape(record.rollback_plan or ''), 1900)}"


def voided_approvals(users: list[str]) -> str:
    who = ", ".join(mrkdwn.user(u) for u in users)
    return (
        f":warning: The head moved: the approvals of {who} were for the old head and no longer "
        f"count."
    )


def footer(record: Promotion) -> str:
    at = record.updated_at or record.requested_at
    return f"Updated {mrkdwn.when(at)} · state `{record.state.value}` · #{record.id}"


# -- buttons and modals --------------------------------------------------------------------

BUTTON_APPROVE = "Approve"
BUTTON_REJECT = "Reject"
BUTTON_CANCEL = "Cancel"
BUTTON_RETRY = "Retry"
BUTTON_ROLLBACK = "Rollback"
BUTTON_ADD_PLAN = "Add rollback plan"


def confirm_cancel(record: Promotion) -> tuple[str, str, str, str]:
    return (
        "Cancel this promotion?",
        f"#{record.id} stops here; its pull request stays open.",
        "Cancel it",
        "Keep it",
    )


def confirm_approve(record: Promotion) -> tuple[str, str, str, str]:
    return (
        "Approve this head?",
        f"You approve exactly `{record.short_sha}` going to {record.env}.",
        "Approve",
        "Back",
    )


def reject_title(record: Promotion) -> str:
    return mrkdwn.clip(f"Reject #{record.id}", 24)


def reject_intro(record: Promotion) -> str:
    return (
        f"Rejecting #{record.id} ({record.app} → {record.env}, `{record.short_sha}`) ends it. "
        f"The requester sees your reason on the card."
    )


def reject_label() -> str:
    return "Why? What must change?"


def plan_title(record: Promotion) -> str:
    return mrkdwn.clip(f"Rollback plan #{record.id}", 24)


def plan_intro(record: Promotion) -> str:
    return (
        f"How do we undo #{record.id} ({record.app} → {record.env}) if it goes wrong? "
        f"The plan is written into the pull request."
    )


def plan_label() -> str:
    return "Rollback plan"


# -- status and home -----------------------------------------------------------------------


def status_header(app: str) -> str:
    return mrkdwn.clip(f"Status of {app}", 150)


def status_fallback(app: str) -> str:
    return f"Status of {app} per environment"


def home_header() -> str:
    return "promotebot: environments"


def home_intro(apps: list[App]) -> str:
    return (
        f"Live view of {', '.join(a.name for a in apps)}; it refreshes when a promotion "
        f"changes. `{COMMAND} help` lists the commands."
    )


def home_unavailable(app: str) -> str:
    return (
        f":warning: The status of {app} could not be read just now; it refreshes on the next "
        f"change."
    )


def finished(record: Promotion) -> str:
    return (
        f":information_source: #{record.id} is already {record.state.label}: its buttons do "
        f"nothing now. `{COMMAND} status` shows what runs."
    )
