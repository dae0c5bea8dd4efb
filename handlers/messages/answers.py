"""Answers to commands and clicks: the ephemeral a person sees after asking for something.

A refusal is the core's Reason in words (refusals.py) after :no_entry:; an unexpected failure
is `generic_error` with a reference id, never the exception's text.
"""

from __future__ import annotations

from collections.abc import Sequence

from handlers import mrkdwn
from handlers.ids import COMMAND, HOTFIX_COMMAND
from handlers.messages import refusals
from handlers.messages.words import text, who
from slackbot.engine.queueing import InLine
from slackbot.models import Block, Promotion, QueueEntry
from slackbot.pipeline import ALL
from slackbot.reasons import Reason


def working(what: str) -> str:
    return f":hourglass_flowing_sand: On it: {what}…"


def working_promote(env: str, app: str | None) -> str:
    target = f"{app} to {env}" if app else env
    return working(f"checking that {text(target)} can be promoted")


def working_status(app: str | None) -> str:
    return working(f"reading the status of {text(app)}" if app else "reading the status")


def working_rollback(env: str, app: str | None) -> str:
    target = f"{app} in {env}" if app else env
    return working(f"checking that {text(target)} can be rolled back")


def working_hotfix(what: str, name: str) -> str:
    return working(f"{what} hotfix/{text(name)}")


def generic_error(reference: str) -> str:
    return (
        f":warning: Something went wrong on promotebot's side (reference `{reference}`). "
        f"Nothing more was done. Try again in a minute; if it keeps failing, give the platform "
        f"team this reference."
    )


def database_unavailable() -> str:
    return (":warning: promotebot cannot reach its database just now; nothing was changed. "
            "Try again in a minute.")


def refused(reason: Reason) -> str:
    return f":no_entry: {refusals.sentence(reason)}"


def promotion_started(record: Promotion, channel: str) -> str:
    return (
        f":rocket: Promotion #{record.id} of {record.app} to {record.env} "
        f"({text(record.source_branch)}@{record.short_sha}) has started: follow it in "
        f"<#{channel}>."
    )


def retry_started(old: Promotion, new: Promotion, channel: str) -> str:
    return (
        f":repeat: Retrying #{old.id} as #{new.id} ({text(new.source_branch)}@{new.short_sha} "
        f"-> {new.target_branch}): follow it in <#{channel}>."
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


def rollback_started(record: Promotion, channel: str) -> str:
    assert record.rollback is not None
    spec = record.rollback
    how = (f"the revert is pushed to {record.target_branch}" if record.direct
           else f"a revert pull request goes through {record.env}'s gates")
    if spec.emergency:
        how = f"emergency: the revert is pushed to {record.target_branch} directly"
    return (
        f":leftwards_arrow_with_hook: Rollback #{record.id} of {record.app} {record.env} to "
        f"`{mrkdwn.short(spec.target)}` has started ({how}): follow it in <#{channel}>. "
        f"Promotions into {record.env} are on hold until `{COMMAND} unlock {record.env}`."
    )


def unlocked(app: str, env: str, user: str) -> str:
    return (f":unlock: {who(user)} lifted the hold on {env} of {app}: promotions into it are "
            f"open again.")


def not_held(app: str, env: str) -> str:
    return f":information_source: {env} of {app} was not on hold: nothing to do."


def hotfix_branched(app: str, branch: str, sha: str, prod_branch: str, name: str, user: str) -> str:
    safe = text(branch)
    steps = "\n".join(("git fetch origin", f"git switch {safe}", "# commit the fix, test it",
                       f"git push origin {safe}"))
    return (
        f":adhesive_bandage: {who(user)} started `{safe}` for {app} from "
        f"`{prod_branch}@{mrkdwn.short(sha)}`. Next:\n```{steps}```\n"
        f"then `{HOTFIX_COMMAND} promote {text(name)}` takes it to {prod_branch} through "
        f"its gates and backports it to the branches below."
    )


def hotfix_started(record: Promotion, channel: str) -> str:
    return (
        f":adhesive_bandage: Hotfix #{record.id} of {record.app} "
        f"({text(record.source_branch)}@{record.short_sha} -> {record.target_branch}) has "
        f"started: follow it in <#{channel}>."
    )


def frozen(app: str, env: str, user: str, reason: str) -> str:
    return (f":ice_cube: {who(user)} froze {env} of {app}: {text(reason)}. Promotions into "
            f"{env} are refused until `{COMMAND} unfreeze {env}`.")


def unfrozen(app: str, env: str, user: str) -> str:
    return f":sunny: {who(user)} unfroze {env} of {app}: promotions into it are open again."


def not_frozen(app: str, env: str) -> str:
    return f":information_source: {env} of {app} was not frozen: nothing to do."


def stale_button() -> str:
    return (":warning: This button does not belong to a promotion promotebot knows. "
            f"Use `{COMMAND} status` to see what is running.")


def not_this_card(record_id: int) -> str:
    return (f":warning: This button is not on the card of #{record_id}, so it does nothing: "
            f"use the buttons of the card itself, or `{COMMAND} status` to see what runs.")


def finished(record: Promotion) -> str:
    return (f":information_source: #{record.id} is already {record.state.label}: its buttons do "
            f"nothing now. `{COMMAND} status` shows what runs.")


def empty_reason() -> str:
    return "Say why you reject it, so the requester knows what to change."


def empty_plan() -> str:
    return "Write how to undo this change (for example: revert the merge commit on prod)."


def queued(line: InLine, channel: str) -> str:
    """A request that waits for its env, with its place in line."""
    entry, live = line.entry, line.live
    where = f"{entry.app} to {entry.env}"
    if live is None:
        busy = f"{entry.env} is just freeing up"
        when_ = "it starts in turn in a moment"
    else:
        busy = (f"{entry.env} has a live {live.kind.value} (#{live.id} by "
                f"{who(live.requested_by)}, {live.state.label})")
        when_ = f"it starts by itself when #{live.id} ends"
    place = "next in line" if line.position == 1 else f"number {line.position} in line"
    return (f":busts_in_silhouette: {busy}: your promotion of {where} is queued, {place} "
            f"({line.size} in queue); {when_}, after every rule is checked again, and its card "
            f"appears in <#{channel}>. `{COMMAND} leave {entry.env}` takes you out.")


def left_queue(entry: QueueEntry) -> str:
    return (f":wave: You left the queue for {entry.env} of {entry.app}: your request will not "
            f"start.")


def frozen_wide(block: Block, user: str) -> str:
    if block.app == ALL:
        return (f":ice_cube: {who(user)} froze every app: {text(block.reason)}. Promotions are "
                f"refused everywhere until `{COMMAND} unfreeze all`.")
    return (f":ice_cube: {who(user)} froze every environment of {block.app}: "
            f"{text(block.reason)}. Promotions of {block.app} are refused until "
            f"`{COMMAND} unfreeze {block.app}`.")


def unfrozen_wide(app: str | None, user: str) -> str:
    if app is None:
        return f":sunny: {who(user)} lifted the freeze of every app."
    return f":sunny: {who(user)} lifted the freeze of every environment of {app}."


def not_frozen_wide(app: str | None) -> str:
    what = "every app" if app is None else f"every environment of {app}"
    return f":information_source: There is no freeze of {what}: nothing to do."


def frozen_wider(app: str, env: str, wider: Sequence[Block]) -> str:
    """`unfreeze <env>` when the env is frozen only by a wider freeze."""
    lifts = ", ".join(f"`{COMMAND} unfreeze {'all' if b.app == ALL else b.app}`" for b in wider)
    return (f":information_source: {env} of {app} has no freeze of its own, but a wider one "
            f"covers it: {lifts} lifts that.")
