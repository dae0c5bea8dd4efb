"""Every sentence promotebot shows in Slack, as small functions, so wording is reviewed here.

Sentences from the engine (DomainError texts, event details) arrive as plain text naming
people `@<id>`; `mrkdwn.sentence` makes them safe. Nothing here may show the text of an
unexpected exception: those get `generic_error(reference)` and a log line instead.
"""

from __future__ import annotations

import re

from handlers import mrkdwn
from handlers.ids import COMMAND, HOTFIX_COMMAND, ROLLBACK_COMMAND
from slackbot.models import Event, Kind, Promotion, State
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


def incidents_unavailable() -> str:
    return (
        ":warning: This promotebot has no git workspace, so it cannot revert or branch a hotfix. "
        "Ask the platform team to configure one; meanwhile revert on the branch by hand."
    )


def working_rollback(env: str, app: str | None) -> str:
    target = f"{app} in {env}" if app else env
    return working(f"checking that {target} can be rolled back")


def rollback_started(record: Promotion, channel: str) -> str:
    target = mrkdwn.short(record.extra.get("target_revision"))
    how = {
        "direct": f"the revert is pushed to {record.target_branch}",
        "pull": f"a revert pull request goes through {record.env}'s gates",
    }.get(record.extra.get("mode", ""), "")
    if record.extra.get("emergency") == "yes":
        how = f"emergency: the revert is pushed to {record.target_branch} directly"
    return (
        f":leftwards_arrow_with_hook: Rollback #{record.id} of {record.app} {record.env} to "
        f"`{target}` has started ({how}): follow it in <#{channel}>. Promotions into "
        f"{record.env} are on hold until `{COMMAND} unlock {record.env}`."
    )


def unlocked(app: str, env: str, user: str) -> str:
    return (
        f":unlock: {mrkdwn.user(user)} lifted the hold on {env} of {app}: promotions into it are "
        f"open again."
    )


def not_held(app: str, env: str) -> str:
    return f":information_source: {env} of {app} was not on hold: nothing to do."


def working_hotfix(what: str, name: str) -> str:
    return working(f"{what} hotfix/{name}")


def hotfix_branched(app: str, branch: str, sha: str, prod_branch: str, name: str, user: str) -> str:
    safe = mrkdwn.escape(branch)
    steps = "\n".join(
        (
            "git fetch origin",
            f"git switch {safe}",
            "# commit the fix, test it",
            f"git push origin {safe}",
        )
    )
    return (
        f":adhesive_bandage: {mrkdwn.user(user)} started `{safe}` for {app} from "
        f"`{prod_branch}@{mrkdwn.short(sha)}`. Next:\n```{steps}```\n"
        f"then `{HOTFIX_COMMAND} promote {mrkdwn.escape(name)}` takes it to {prod_branch} through "
        f"its gates and backports it to the branches below."
    )


def hotfix_started(record: Promotion, channel: str) -> str:
    return (
        f":adhesive_bandage: Hotfix #{record.id} of {record.app} "
        f"({mrkdwn.escape(record.source_branch)}@{record.short_sha} -> {record.target_branch}) has "
        f"started: follow it in <#{channel}>."
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


def rollback_usage(form: str, problem: str) -> str:
    return f":grey_question: {problem}: use `{ROLLBACK_COMMAND} {form}`."


def rollback_unknown_app(word: str, suggestion: str) -> str:
    return (
        f":grey_question: there is no app `{mrkdwn.escape(word)}`: did you mean `{suggestion}`? "
        f"`{ROLLBACK_COMMAND} help` shows the form."
    )


def hotfix_usage(form: str, problem: str) -> str:
    return f":grey_question: {problem}: use `{HOTFIX_COMMAND} {form}`."


def hotfix_unknown_subcommand(word: str, suggestion: str | None) -> str:
    meant = (
        f"did you mean `{HOTFIX_COMMAND} {suggestion}`?"
        if suggestion
        else (f"use `{HOTFIX_COMMAND} start <name>` or `{HOTFIX_COMMAND} promote <name>`.")
    )
    return (
        f":grey_question: `{HOTFIX_COMMAND} {mrkdwn.escape(word)}` is not a command: {meant} "
        f"`{HOTFIX_COMMAND} help` lists them all."
    )


def hotfix_unknown_app(word: str, suggestion: str) -> str:
    return (
        f":grey_question: there is no app `{mrkdwn.escape(word)}`: did you mean `{suggestion}`? "
        f"`{HOTFIX_COMMAND} help` shows the form."
    )


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
        "per env: branch head, applied revision, Ready, pods, live promotion, commits "
        "waiting, freezes and holds",
    ),
    (f"{COMMAND} freeze <env> [reason]", "refuse promotions into <env> until unfrozen"),
    (f"{COMMAND} unfreeze <env>", "lift a freeze"),
    (f"{COMMAND} unlock <env> [app]", "lift the hold a rollback put on <env>"),
    (f"{COMMAND} cancel <id>", "cancel a promotion that has not merged yet"),
    (f"{ROLLBACK_COMMAND} <env>", "roll <env> back to a revision it ran (see /rollback help)"),
    (f"{HOTFIX_COMMAND} start <name>", "branch a hotfix from prod (see /hotfix help)"),
    (f"{COMMAND} help", "this help"),
)

ROLLBACK_HELP_TITLE = "promotebot: roll an environment back"

ROLLBACK_HELP_LINES = (
    (f"{ROLLBACK_COMMAND} <env> [app]", "choose, in a dialog, the revision <env> returns to"),
    (
        f"{ROLLBACK_COMMAND} <env> [app] to <revision> [reason]",
        "return <env> to that revision (a sha it ran, 7 characters or more)",
    ),
    (
        f"{ROLLBACK_COMMAND} prod emergency [to <revision>] [reason]",
        "on-call only, in the app's incident channel: revert prod's merge directly",
    ),
    (f"{ROLLBACK_COMMAND} help", "this help"),
)


def rollback_help_footer() -> str:
    return (
        "dev: the revert is pushed to dev. staging: a revert pull request through staging's "
        "gates. prod: a planned revert pull request through prod's gates, or `emergency`. "
        f"A rollback puts its env on hold until `{COMMAND} unlock <env>`."
    )


HOTFIX_HELP_TITLE = "promotebot: hotfixes straight to prod"

HOTFIX_HELP_LINES = (
    (
        f"{HOTFIX_COMMAND} start <name> [app]",
        "create hotfix/<name> from prod's head; push your fix to it",
    ),
    (
        f"{HOTFIX_COMMAND} promote <name> [app]",
        "take hotfix/<name> to prod through prod's gates, then backport it to staging and dev",
    ),
    (f"{HOTFIX_COMMAND} help", "this help"),
)


def hotfix_help_footer() -> str:
    return (
        "A freeze or a hold does not stop a hotfix. After it deploys, the bot merges it into "
        "the branches below; a conflict becomes a pull request, said on the card."
    )


def help_fallback(title: str = HELP_TITLE, lines: tuple[tuple[str, str], ...] = HELP_LINES) -> str:
    return title + "\n" + "\n".join(f"{form}: {what}" for form, what in lines)


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
    if record.kind is Kind.ROLLBACK:
        target = mrkdwn.short(record.extra.get("target_revision")) or "?"
        return mrkdwn.clip(f"{kind} #{record.id}: {record.app} {record.env} → {target}", 150)
    if record.kind is Kind.HOTFIX:
        return mrkdwn.clip(f"{kind} #{record.id}: {record.source_branch} → {record.env}", 150)
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
        if record.kind is Kind.ROLLBACK:
            target = mrkdwn.short(record.extra.get("target_revision"))
            return (
                f":white_check_mark: *{record.env} is back to `{target}`.* Promotions into "
                f"{record.env} stay on hold until `{COMMAND} unlock {record.env}`."
            )
        if record.kind is Kind.HOTFIX:
            return (
                f":white_check_mark: *Hotfix deployed to {record.env}*; the backports to the "
                f"branches below are in the timeline."
            )
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
        "hold": f":lock: Hold placed by {who}: {detail}",
        "reverting": f":leftwards_arrow_with_hook: Reverting: {detail}",
        "reverted": f":leftwards_arrow_with_hook: Revert pushed as "
        f"`{mrkdwn.short(event.detail)}`; reconcile requested",
        "synced": f":arrows_counterclockwise: Sync: {detail}",
        "sync_conflict": f":warning: Sync conflict: {_with_pull_link(event.detail)}",
        "sync_failed": f":warning: Sync failed: {detail}",
        "backported": f":arrow_heading_down: Backport: {detail}",
        "backport_conflict": f":warning: Backport conflict: {_with_pull_link(event.detail)}",
        "backport_failed": f":warning: Backport failed: {detail}",
    }.get(event.kind)
    return f"{at}  {text}" if text else None


_PULL_AT_END = re.compile(r"pull request #(?P<number>\d+) (?P<url>https?://\S+)$")


def _with_pull_link(detail: str) -> str:
    """ "... resolve it in pull request #12 https://..." with the number as a link."""
    found = _PULL_AT_END.search(detail)
    if found is None:
        return mrkdwn.sentence(detail)
    head = mrkdwn.sentence(detail[: found.start()])
    return f"{head}pull request {mrkdwn.link(found['url'], '#' + found['number'])}"


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
    if event.kind == "hold":
        return f":lock: {mrkdwn.user(event.actor)}: {detail}"
    if event.kind == "reverted":
        return f":leftwards_arrow_with_hook: Revert pushed as `{mrkdwn.short(event.detail)}`"
    if event.kind in ("synced", "backported", "sync_failed", "backport_failed"):
        return f":arrows_counterclockwise: {detail}"
    if event.kind in ("sync_conflict", "backport_conflict"):
        return f":warning: {_with_pull_link(event.detail)}"
    return None


def field_requested_by(record: Promotion) -> str:
    return f"*Requested by*\n{mrkdwn.user(record.requested_by)}"


def field_route(record: Promotion) -> str:
    if record.kind is Kind.ROLLBACK and record.extra.get("mode") == "direct":
        return f"*Branch*\n`{record.target_branch}` (reverted in place)"
    return f"*Source → target*\n`{record.source_branch}` → `{record.target_branch}`"


def field_head(record: Promotion) -> str:
    if record.kind is Kind.ROLLBACK:
        target = mrkdwn.short(record.extra.get("target_revision"))
        was = mrkdwn.short(record.extra.get("from_head"))
        return f"*Back to*\n`{target}` (from `{was}`)"
    return f"*Head*\n`{record.short_sha or 'not pinned yet'}`"


def field_pull(record: Promotion) -> str:
    if record.pr_url and record.pr_number is not None:
        return f"*Pull request*\n{mrkdwn.link(record.pr_url, f'#{record.pr_number}')}"
    if record.kind is Kind.ROLLBACK and record.extra.get("mode") == "direct":
        how = "emergency revert" if record.extra.get("emergency") == "yes" else "revert"
        return f"*Pull request*\nnone: the {how} is pushed to `{record.target_branch}`"
    return "*Pull request*\nnot opened yet"


def field_reason(record: Promotion) -> str | None:
    reason = record.extra.get("reason", "")
    if record.kind is not Kind.ROLLBACK or not reason:
        return None
    return f"*Reason*\n{mrkdwn.clip(mrkdwn.escape(reason), 1900)}"


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
    body = f"#{record.id} stops here; its pull request stays open."
    if record.kind is Kind.ROLLBACK:
        body += f" The hold on {record.env} stays until `{COMMAND} unlock {record.env}`."
    return (f"Cancel this {record.kind.value}?", body, "Cancel it", "Keep it")


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


# -- the rollback dialog -------------------------------------------------------------------

BUTTON_ROLL_BACK = "Roll back"


def rollback_title(env: str) -> str:
    return mrkdwn.clip(f"Roll back {env}", 24)


def rollback_loading(app: str, env: str) -> str:
    return f":hourglass_flowing_sand: Reading the revisions {env} of {app} ran…"


def rollback_how(env: str, first: bool, emergency: bool) -> str:
    if emergency:
        return (
            f":rotating_light: *Emergency*: the merge is reverted on {env} directly, "
            f"without a pull request."
        )
    if first:
        return f"The revert is pushed to {env} directly; Flux applies it."
    return f"A revert pull request goes through {env}'s gates, as a promotion does."


def rollback_intro(app: str, env: str, how: str) -> str:
    return (
        f"Choose the revision *{app} {env}* returns to (newest first; its current one is not "
        f"listed). {how} Promotions into {env} are then on hold until "
        f"`{COMMAND} unlock {env}`."
    )


def revision_option(sha: str, subject: str, source: str) -> str:
    first_line = (subject.splitlines() or [""])[0]
    suffix = f" ({source})"
    return mrkdwn.clip(f"{sha[:7]} {first_line}", 75 - len(suffix)) + suffix


def rollback_choice_label() -> str:
    return "Return to"


def rollback_reason_label() -> str:
    return "Why? (shown on the card and on the hold)"


def rollback_no_choices(app: str, env: str) -> str:
    return (
        f":information_source: {env} of {app} has no earlier revision in its branch history: "
        f"there is nothing to roll back to."
    )


def rollback_cannot_list(reason: str) -> str:
    return refused(reason)


def rollback_choose_one() -> str:
    return "Choose the revision to return to."
