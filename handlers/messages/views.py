"""The words of the other surfaces: parse errors and help, the status view and App Home, the
reject and rollback-plan modals, and the rollback dialog.

handlers/blocks.py lays these out; anything a person typed is escaped before it is echoed.
"""

from __future__ import annotations

from datetime import datetime

from handlers import mrkdwn
from handlers.ids import COMMAND, HOTFIX_COMMAND, ROLLBACK_COMMAND
from handlers.messages.pipeline import flux_words, image_text, runs_text
from slackbot.engine.incidents import Revision
from slackbot.models import Block, BlockKind, Kind, Promotion, record_name
from slackbot.pipeline import ALL, App, CalendarFreeze
from slackbot.plurals import counted
from slackbot.status import EnvStatus

# -- parsing -----------------------------------------------------------------------------


def unknown_subcommand(word: str, suggestion: str) -> str:
    return (
        f":grey_question: `{COMMAND} {mrkdwn.escape(word)}` is not a command: did you mean "
        f"`{COMMAND} {suggestion}`? `{COMMAND} help` lists them all."
    )


def usage(form: str, problem: str) -> str:
    """`form` may hold what the person typed: it is escaped (and so are its <placeholders>)."""
    return f":grey_question: {problem}: use `{COMMAND} {mrkdwn.escape(form)}`."


def not_a_record_name(word: str) -> str:
    return (f":grey_question: `{mrkdwn.escape(word)}` is how GitHub names a pull request; "
            f"promotebot's records are named like P-12 (promotion), R-3 (rollback) and H-2 "
            f"(hotfix), as on their cards.")


def rollback_usage(form: str, problem: str) -> str:
    return f":grey_question: {problem}: use `{ROLLBACK_COMMAND} {mrkdwn.escape(form)}`."


def rollback_unknown_app(word: str, suggestion: str) -> str:
    return (
        f":grey_question: there is no app `{mrkdwn.escape(word)}`: did you mean `{suggestion}`? "
        f"`{ROLLBACK_COMMAND} help` shows the form."
    )


def hotfix_usage(form: str, problem: str) -> str:
    return f":grey_question: {problem}: use `{HOTFIX_COMMAND} {mrkdwn.escape(form)}`."


def hotfix_unknown_subcommand(word: str, suggestion: str | None) -> str:
    meant = (
        f"did you mean `{HOTFIX_COMMAND} {suggestion}`?"
        if suggestion
        else (f"use `{HOTFIX_COMMAND} start &lt;name&gt;` or "
              f"`{HOTFIX_COMMAND} promote &lt;name&gt;`.")
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
    (
        f"{COMMAND} stats [app]",
        "delivery figures per env over 7, 30 and 90 days: deploys, lead time, change "
        "failure rate, time to restore",
    ),
    (
        f"{COMMAND} freeze <env>|<app>|all [reason]",
        "refuse promotions into <env>, every env of <app>, or every app, until unfrozen",
    ),
    (f"{COMMAND} unfreeze <env>|<app>|all", "lift a freeze"),
    (
        f"{COMMAND} leave <env> [app]",
        "leave the queue of <env> (a request made while it is busy waits in line)",
    ),
    (f"{COMMAND} unlock <env> [app]", "lift the hold a rollback put on <env>"),
    (f"{COMMAND} cancel <name>", "cancel a promotion that has not merged yet (its name: P-12)"),
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
        "on-call only, in the app's incident channel: revert prod at once; the same revert is "
        "then carried down to the branches below",
    ),
    (
        f"{ROLLBACK_COMMAND} undo <name>",
        "re-apply what a rollback (R-3) removed, as a new commit on the first env, promoted up "
        "from there",
    ),
    (f"{ROLLBACK_COMMAND} help", "this help"),
)


def rollback_help_footer() -> str:
    return (
        "A planned rollback lands on the lowest env that has the change (dev: pushed; staging "
        "or prod: a revert pull request through its gates) and is promoted up from there. "
        "`emergency` reverts prod at once. A rollback of the env itself puts it on hold until "
        f"`{COMMAND} unlock &lt;env&gt;`."
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
    return mrkdwn.escape(title + "\n" + "\n".join(f"{form}: {what}" for form, what in lines))


def help_footer() -> str:
    return (
        "The app may be left out when the channel belongs to one app. Buttons on each card: "
        "Approve / Reject (stakeholders), Add rollback plan, Cancel, Retry, Rollback."
    )


def reject_title(record: Promotion) -> str:
    return mrkdwn.clip(f"Reject {record.name}", 24)


def reject_intro(record: Promotion) -> str:
    return (
        f"Rejecting {record.name} ({record.app} → {record.env}, `{record.short_sha}`) ends it. "
        f"The requester sees your reason on the card."
    )


def reject_label() -> str:
    return "Why? What must change?"


def plan_title(record: Promotion) -> str:
    return mrkdwn.clip(f"Rollback plan {record.name}", 24)


def plan_intro(record: Promotion) -> str:
    return (
        f"How do we undo {record.name} ({record.app} → {record.env}) if it goes wrong? "
        f"The plan is written into the pull request."
    )


def plan_label() -> str:
    return "Rollback plan"




# -- status and home -----------------------------------------------------------------------


def status_header(app: str) -> str:
    return mrkdwn.clip(f"Status of {app}", 150)


def status_fallback(app: str) -> str:
    return f"Status of {app} per environment"


def ready_badge(ready: str) -> str:
    return {"True": ":large_green_circle: Ready", "False": ":red_circle: Not ready"}.get(
        ready, ":white_circle: Unknown")


def env_title(env: EnvStatus) -> str:
    title = f"*{env.env}* · {ready_badge(env.ready)}"
    if env.suspended:
        title += " · :double_vertical_bar: suspended"
    # "Applied revision: dev@sha1:…" says what the Runs field says: shown once, there
    if env.message and env.message != f"Applied revision: {env.applied_revision}":
        title += f"\n{mrkdwn.clip(flux_words(env.message), 500)}"
    return title


def env_fields(env: EnvStatus) -> list[str]:
    live = env.live
    live_text = (f"{live.name} {live.kind.value} by {mrkdwn.user(live.requested_by)}: "
                 f"{live.state.label}") if live else "none"
    blocks_text = "; ".join([*(block_line(b) for b in env.blocks),
                             *(calendar_line(f, env.now) for f in env.calendar)]) or "none"
    fields = [
        f"*Runs*\n{runs_text(env)}",
        f"*Image*\n{image_text(env)}",
        f"*Pods ready*\n{env.pods_ready} of {env.pods_desired}",
        f"*Live promotion*\n{live_text}",
        "*Waiting to be promoted here*\n" + (counted(len(env.waiting), "commit") if env.promotable
                                              else "nothing to promote"),
        f"*Freeze / hold*\n{blocks_text}",
    ]
    if env.queue:
        fields.append(f"*Queue*\n{queue_text(env)}")
    return fields


def queue_text(env: EnvStatus) -> str:
    names = ", ".join(mrkdwn.user(e.user) for e in env.queue[:5])
    more = f" and {len(env.queue) - 5} more" if len(env.queue) > 5 else ""
    return f"{len(env.queue)} waiting: {names}{more}"


def calendar_line(freeze: CalendarFreeze, now: datetime | None) -> str:
    state = "in force" if now is not None and freeze.active(now) else "planned"
    return (f":calendar: calendar freeze ({state}) from {mrkdwn.when(freeze.start)} until "
            f"{mrkdwn.when(freeze.end)}: {mrkdwn.escape(freeze.reason)}")


def block_line(block: Block) -> str:
    emoji = ":ice_cube:" if block.kind is BlockKind.FREEZE else ":lock:"
    why = mrkdwn.escape(block.reason)
    if block.record is not None:
        target = f" to {mrkdwn.short(block.target)}" if block.target else ""
        why = f"rollback {record_name(Kind.ROLLBACK, block.record)}{target}" + (
            f": {why}" if why else "")
    scope = ("" if block.env != ALL else " of every app" if block.app == ALL
             else f" of every env of {block.app}")
    return (f"{emoji} {block.kind.value}{scope} by {mrkdwn.user(block.by)} since "
            f"{mrkdwn.when(block.at)}: {why}")


def waiting_lines(env: EnvStatus, shown: int = 5) -> str:
    lines = [f"`{c.sha[:7]}` {mrkdwn.escape((c.message.splitlines() or [''])[0][:80])} "
             f"({mrkdwn.escape(c.author)})" for c in env.waiting[:shown]]
    if len(env.waiting) > shown:
        lines.append(f"… and {len(env.waiting) - shown} more")
    return "\n".join(lines)


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
            f"without a pull request; once it deploys, the same revert is carried down to the "
            f"branches below."
        )
    if first:
        return f"The revert is pushed to {env} directly; Flux applies it."
    return (f"The revert lands on the lowest env that has the change (a pull request through "
            f"its gates, or a push to the first env) and is promoted up to {env} from there.")


def rollback_intro(app: str, env: str, how: str) -> str:
    return (
        f"Choose the revision *{app} {env}* returns to (newest first; its current one is not "
        f"listed). {how} Promotions into {env} are then on hold until "
        f"`{COMMAND} unlock {env}`."
    )


def revision_option(revision: Revision) -> str:
    """A plain-text option, clipped to Block Kit's 75 characters. Plain text renders no
    mention, but Slack decodes &amp; &lt; &gt; in every text object: the commit subject is
    escaped all the same, so it shows as written."""
    first_line = (revision.subject.splitlines() or [""])[0]
    source = "branch history"
    if revision.record is not None and revision.kind is not None:
        name = record_name(revision.kind, revision.record)
        source = f"{revision.kind.value} {name}"
        # the bot's own commit carries the record's tag (`[R-4]`): the suffix names it once
        first_line = " ".join(first_line.replace(f"[{name}]", "").split())
    first_line = mrkdwn.escape(first_line)
    suffix = f" ({source})"
    return mrkdwn.clip(f"{revision.sha[:7]} {first_line}", 75 - len(suffix)) + suffix


def rollback_choice_label() -> str:
    return "Return to"


def rollback_reason_label() -> str:
    return "Why? (shown on the card and on the hold)"


def rollback_no_choices(app: str, env: str) -> str:
    return (
        f":information_source: {env} of {app} has no earlier revision in its branch history: "
        f"there is nothing to roll back to."
    )


def rollback_choose_one() -> str:
    return "Choose the revision to return to."
