"""Answers to commands and clicks: the ephemeral a person sees after asking for something.

A refusal is the core's Reason in words (refusals.py) after :no_entry:; an unexpected failure
is `generic_error` with a reference id, never the exception's text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from handlers import mrkdwn
from handlers.ids import COMMAND, HOTFIX_COMMAND
from handlers.messages import refusals
from handlers.messages.words import freeze_scope, record_name, text, who
from slackbot.engine.queueing import InLine
from slackbot.models import Block, Kind, Promotion, QueueEntry
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


def github_unavailable(until: datetime | None, since: datetime | None,
                       status: int | None) -> str:
    """A command that needed GitHub, which is limiting or failing: nothing was done."""
    if until is not None:
        return (f":hourglass: GitHub's rate limit makes promotebot wait until "
                f"{mrkdwn.when(until, '{time}')}; nothing was changed. Try again then.")
    what = f"answering {status}" if status else "not answering"
    since_text = f" since {mrkdwn.when(since, '{time}')}" if since else ""
    return (f":warning: GitHub is {what}{since_text}; nothing was changed. Try again in a few "
            f"minutes.")


def protected(branch: str, rule: str) -> str:
    return (f":no_entry: {text(branch)} is protected on GitHub, which refused: "
            f"\"{text(rule.rstrip('.'))}\". Nothing was changed. Let promotebot past the rule "
            f"(docs/deploy.md, \"Protected branches\") or do it on GitHub yourself.")


def refused(reason: Reason) -> str:
    return f":no_entry: {refusals.sentence(reason)}"


def promotion_started(record: Promotion, channel: str) -> str:
    return (
        f":rocket: Promotion {record.name} of {record.app} to {record.env} "
        f"({text(record.source_branch)}@{record.short_sha}) has started: follow it in "
        f"<#{channel}>."
    )


def retry_started(old: Promotion, new: Promotion, channel: str) -> str:
    return (
        f":repeat: Retrying {old.name} as {new.name} ({text(new.source_branch)}@{new.short_sha} "
        f"-> {new.target_branch}): follow it in <#{channel}>."
    )


def approved(record: Promotion) -> str:
    return f":white_check_mark: You approved {record.name} at `{record.short_sha}`."


def cancelled(record: Promotion) -> str:
    return f":no_entry_sign: You cancelled {record.name}."


def rejected(record: Promotion) -> str:
    return f":octagonal_sign: You rejected {record.name}; the requester sees your reason."


def plan_saved(record: Promotion) -> str:
    where = " and in the pull request" if record.pr_number else ""
    return f":memo: The rollback plan of {record.name} is saved on the card{where}."


def rollback_started(record: Promotion, channel: str) -> str:
    assert record.rollback is not None
    spec = record.rollback
    where = "its card is here" if channel == record.channel else f"follow it in <#{channel}>"
    if spec.undoes is not None:
        undone = record_name(Kind.ROLLBACK, spec.undoes)
        return (f":leftwards_arrow_with_hook: Rollback {record.name} re-applies what {undone} "
                f"removed, as a new commit on {record.target_branch}: {where}. Then promote it "
                f"up as any change.")
    if spec.asked_env is not None:
        how = (f"pushed to {record.target_branch}" if record.direct
               else f"a revert pull request through {record.env}'s gates")
        return (f":leftwards_arrow_with_hook: Rollback {record.name} of {record.app} "
                f"{spec.asked_env} to `{mrkdwn.short(spec.target)}` has started: the revert "
                f"lands on {record.env}, the lowest env that has the change ({how}), and is "
                f"promoted up from there: {where}.")
    how = (f"the revert is pushed to {record.target_branch}" if record.direct
           else f"a revert pull request goes through {record.env}'s gates")
    if spec.emergency:
        how = (f"emergency: the revert is pushed to {record.target_branch} directly, then "
               f"carried down")
    return (
        f":leftwards_arrow_with_hook: Rollback {record.name} of {record.app} {record.env} to "
        f"`{mrkdwn.short(spec.target)}` has started ({how}): {where}. "
        f"Promotions into {record.env} are on hold until `{COMMAND} unlock {record.env}`."
    )


def chain_waits(record: Promotion, root: str, reason: str, message: str) -> str:
    """What Flux will and will not do for a record whose env waits on its chain."""
    return (f":warning: Flux applies {record.env} only once its dependsOn chain is Ready, and "
            f"{root} is not ({text(reason)}: {text(message)}): {record.env} keeps running what "
            f"it runs until then. {refusals.root_remedy(root).capitalize()}: the button opens "
            f"its rollback.")


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
    where = "its card is here" if channel == record.channel else f"follow it in <#{channel}>"
    return (
        f":adhesive_bandage: Hotfix {record.name} of {record.app} "
        f"({text(record.source_branch)}@{record.short_sha} -> {record.target_branch}) has "
        f"started: {where}."
    )


def frozen(app: str, env: str, user: str, reason: str) -> str:
    return (f":ice_cube: {who(user)} froze {env} of {app}: {text(reason)}. Promotions into "
            f"{env} are refused until `{COMMAND} unfreeze {env}`.")


def already_frozen(block: Block) -> str:
    """The owner froze it again without a new reason: their freeze stays as it was."""
    scope, word, _ = freeze_scope(block.app, block.env)
    return (f":information_source: {scope} is already frozen by {who(block.by)} since "
            f"{mrkdwn.when(block.at)}: {text(block.reason)}. Nothing changed; "
            f"`{COMMAND} freeze {word} &lt;new reason&gt;` changes the reason, "
            f"`{COMMAND} unfreeze {word}` lifts it.")


def freeze_reason_changed(block: Block) -> str:
    """The owner froze it again with a new reason: the same freeze, since the same time."""
    scope, word, stopped = freeze_scope(block.app, block.env)
    return (f":ice_cube: {who(block.by)} changed the reason of the freeze of {scope} (frozen "
            f"since {mrkdwn.when(block.at)}): {text(block.reason)}. Promotions {stopped} are "
            f"still refused until `{COMMAND} unfreeze {word}`.")


def unfrozen(app: str, env: str, user: str) -> str:
    return f":sunny: {who(user)} unfroze {env} of {app}: promotions into it are open again."


def not_frozen(app: str, env: str) -> str:
    return f":information_source: {env} of {app} was not frozen: nothing to do."


def stale_button() -> str:
    return (":warning: This button does not belong to a promotion promotebot knows. "
            f"Use `{COMMAND} status` to see what is running.")


def not_this_card(record_id: int) -> str:
    # the number alone: the kind is the record's, and this button may name none (`#N` is a PR's)
    return (f":warning: This button is not on the card of record {record_id}, so it does "
            f"nothing: use the buttons of the card itself, or `{COMMAND} status` to see what "
            f"runs.")


def finished(record: Promotion) -> str:
    return (f":information_source: {record.name} is already {record.state.label}: its buttons do "
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
        busy = (f"{entry.env} has a live {live.kind.value} ({live.name} by "
                f"{who(live.requested_by)}, {live.state.label})")
        when_ = f"it starts by itself when {live.name} ends"
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
