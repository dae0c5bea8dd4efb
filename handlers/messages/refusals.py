"""A Reason from the core as the sentence a person reads: why the bot said no, or why a record
ended, always with the next step.

One function per code, picked by `sentence`. Facts are escaped here (names, Flux's and
GitHub's messages, people's words); people are mentions. (Over 400 lines: one small function
per Code, in one table that a test checks is complete; access.py holds the policy's words.)
"""

from __future__ import annotations

from collections.abc import Callable

from handlers.ids import COMMAND, HOTFIX_COMMAND, ROLLBACK_COMMAND
from handlers.messages import access
from handlers.messages.words import again, duration, record_name, short_rev, text, utc, who
from handlers.mrkdwn import when
from slackbot.models import Kind
from slackbot.pipeline import ALL
from slackbot.progress import Progress, Stage
from slackbot.reasons import Action, Code, Next, Reason

VERBS = {
    Action.APPROVE: ("approve", "approved"),
    Action.REJECT: ("reject", "rejected"),
    Action.CANCEL: ("cancel", "cancelled"),
    Action.PLAN: ("add a rollback plan to", "given a rollback plan"),
    Action.RETRY: ("retry", "retried"),
}


def sentence(reason: Reason) -> str:
    """The reason in words; a code without words of its own names itself (never a crash)."""
    render = _RENDER.get(reason.code)
    return render(reason) if render else f"promotebot refused ({reason.code.value})"


def _verb(action: Action | None, done: bool = False) -> str:
    forms = VERBS.get(action or Action.APPROVE, (str(action), str(action)))
    return forms[1] if done else forms[0]


def _again(r: Reason) -> str:
    return again(r.kind, r.env, r.name)


# -- names ------------------------------------------------------------------------------------


def _unknown_app(r: Reason) -> str:
    hint = f"did you mean `{text(r.suggestion)}`?" if r.suggestion else (
        f"apps: {', '.join(r.choices)}")
    return f"there is no app `{text(r.name or '')}`: {hint}"


def _no_app_for_channel(r: Reason) -> str:
    first = r.choices[0] if r.choices else "myapp"
    return (f"this channel belongs to no app: name one of {', '.join(r.choices)} "
            f"(for example `{first}`)")


def _unknown_env(r: Reason) -> str:
    hint = f": did you mean `{text(r.suggestion)}`?" if r.suggestion else ""
    return (f"{r.app} has no environment `{text(r.name or '')}` (it has "
            f"{', '.join(r.choices)}){hint}")


def _name(r: Reason) -> str:
    return record_name(r.kind, r.record)


def _not_found(r: Reason) -> str:
    return (f"promotebot has no record {r.record}: records are named like P-12 (promotion), "
            f"R-3 (rollback) and H-2 (hotfix); `#12` is a pull request. {COMMAND} status "
            f"shows what runs")


def _wrong_name(r: Reason) -> str:
    return (f"there is no {text(r.name or '')}: record {r.record} is {_name(r)}, a "
            f"{(r.kind or Kind.PROMOTION).value}. Check the name on its card")


def _invalid_name(r: Reason) -> str:
    return (f"`{text(r.name or '')}` is not a valid branch name: use letters, digits, '-', '_', "
            f"'.' or '/' (for example {HOTFIX_COMMAND} start fix-login-timeout)")


# -- order and sources ------------------------------------------------------------------------


def _first_env(r: Reason) -> str:
    return (f"{r.env} is the first environment of {r.app}: nothing is promoted into it. "
            f"Push to the {r.branch} branch and Flux deploys it")


def _wrong_source(r: Reason) -> str:
    return (f"{r.env} is promoted from {r.source}, never from {text(r.name or '')}: "
            f"environments go {' -> '.join(r.choices)}. Promote to {r.source} first")


def root_remedy(root: str) -> str:
    """What helps an env at the root of a dependsOn chain."""
    return f"roll {root} back (`{ROLLBACK_COMMAND} {root}`) or fix it"


def _flux(r: Reason) -> str:
    return f"{text(r.flux_reason or 'no status')}: {text(r.message or '')}"


def _source_not_ready(r: Reason) -> str:
    if r.root is not None and r.root != r.source:
        return (f"{r.source} waits on {r.root}, the first env of its chain that is not Ready "
                f"in Flux ({_flux(r)}): {root_remedy(r.root)}, then {COMMAND} {r.env} again")
    return (f"{r.source} is not Ready in Flux ({_flux(r)}): fix {r.source} first, then "
            f"{COMMAND} {r.env}")


def _source_wait_over(r: Reason) -> str:
    if r.root is not None:
        why = f"it waits on {r.root} ({_flux(r)}): {root_remedy(r.root)}"
    else:
        why = f"Flux says {_flux(r)}"
    return (f"{r.source} did not become Ready at {(r.sha or '')[:7]} while it was waited for; "
            f"{why}, then {COMMAND} {r.env} again")


def _source_behind(r: Reason) -> str:
    runs = short_rev(r.revision) if r.revision else "nothing yet"
    return (f"{r.source} has not applied the head of {r.branch} ({(r.sha or '')[:7]}) yet; it "
            f"runs {runs}: wait for Flux to deploy it to {r.source}, then {COMMAND} {r.env} "
            f"again")


def _nothing_to_promote(r: Reason) -> str:
    return f"{r.target} already has everything in {r.branch}: nothing to promote to {r.env}"


def _already_live(r: Reason) -> str:
    then = ("wait for it, or cancel it first" if r.next is Next.WAIT
            else "cancel it or wait for it to finish")
    kind = r.kind.value if r.kind else "promotion"
    state = r.state.label if r.state else ""
    return (f"{r.env} already has a live {kind} ({_name(r)} by {who(r.who or '')}, {state}): "
            f"{then}")


def _blocked_by(r: Reason) -> str:
    if r.record is not None:
        why = f"rollback {record_name(Kind.ROLLBACK, r.record)} to {(r.sha or '')[:7]}"
        return why + (f": {text(r.text)}" if r.text else "")
    return text(r.text or "")


def _frozen(r: Reason) -> str:
    since = utc(r.since) if r.since else "?"
    if r.app == ALL:
        what, lift = f"{r.env} is frozen with every app", "all"
    elif _wide(r):
        what, lift = f"{r.env} is frozen with every environment of {r.app}", r.app or ""
    else:
        what, lift = f"{r.env} is frozen", r.env or ""
    return (f"{what} by {who(r.who or '')} since {since} ({_blocked_by(r)}): ask "
            f"them, or {COMMAND} unfreeze {lift} when it is over")


def _wide(r: Reason) -> bool:
    """A freeze of the whole app: the rule names the block's env, ALL, in `name`."""
    return r.name == ALL


def _frozen_by_calendar(r: Reason) -> str:
    until = when(r.until) if r.until else "?"
    return (f"{r.env} is in a calendar freeze ({text(r.text or '')}) until {until}: promotions "
            f"go again then (the pipeline file sets it; a hotfix still goes)")


def _already_queued(r: Reason) -> str:
    return (f"you are already in the queue for {r.env} of {r.app}, at position {r.position}: "
            f"it starts by itself in turn; {COMMAND} leave {r.env} takes you out")


def _not_queued(r: Reason) -> str:
    return f"you are not in the queue for {r.env} of {r.app}: nothing to leave"


def _on_hold(r: Reason) -> str:
    since = utc(r.since) if r.since else "?"
    return (f"{r.env} is on hold by {who(r.who or '')} since {since} ({_blocked_by(r)}): fix "
            f"the cause, then {COMMAND} unlock {r.env}")


# -- people and records -----------------------------------------------------------------------


def _no_approval_needed(r: Reason) -> str:
    return f"{r.env} needs no stakeholder approval: its gates are on the pull request"


def _own_record(r: Reason) -> str:
    return (f"you asked for {_name(r)}, so you cannot {_verb(r.action)} it: ask another member "
            f"of the stakeholder group")


def _not_permitted(r: Reason) -> str:
    return access.not_permitted(r)


def _not_approver(r: Reason) -> str:
    return access.not_approver(r)


def _wrong_channel(r: Reason) -> str:
    return access.wrong_channel(r)


def _already_frozen(r: Reason) -> str:
    return access.already_frozen(r, utc(r.since) if r.since else "?")


def _too_early(r: Reason) -> str:
    return f"{_name(r)} has no pull request yet: wait a moment"


def _too_late(r: Reason) -> str:
    state = r.state.label if r.state else ""
    return (f"{_name(r)} is already {state}: it can no longer be {_verb(r.action, done=True)}; "
            f"use {ROLLBACK_COMMAND} {r.env} to undo it")


def _finished(r: Reason) -> str:
    state = r.state.label if r.state else ""
    return f"{_name(r)} is already {state}: there is nothing to {_verb(r.action)}"


def _stale_approval(r: Reason) -> str:
    return (f"you approved {(r.sha or '')[:7]}, but the pull request head is now "
            f"{(r.name or '')[:7]}: review the new commits, then approve again")


def _empty_reason(r: Reason) -> str:
    return "a rejection needs a reason: say what must change"


def _empty_plan(r: Reason) -> str:
    return "the rollback plan is empty: say how to undo this change"


def _still_live(r: Reason) -> str:
    state = r.state.label if r.state else ""
    return f"{_name(r)} is still {state}: there is nothing to retry yet"


def _not_retried(r: Reason) -> str:
    return (f"a rollback is not retried as it was: {ROLLBACK_COMMAND} {r.env} lists the "
            f"revisions to choose from")


# -- incidents --------------------------------------------------------------------------------


def _emergency_not_last(r: Reason) -> str:
    how = "pushes its revert directly" if r.text == "direct" else "opens a revert pull request"
    return f"`emergency` is for {r.name} only: {ROLLBACK_COMMAND} {r.env} {how}"


def _revision_unknown(r: Reason) -> str:
    return (f"{r.env} never ran {text(r.name or '')}: {ROLLBACK_COMMAND} {r.env} without a "
            f"revision lists the ones it ran")


def _chain_not_ready(r: Reason) -> str:
    what = "hotfix" if r.action is Action.HOTFIX_PROMOTE else "rollback"
    root = r.root or r.source or r.name or "?"
    return (f"{r.env} waits on {root}, the first env of its dependsOn chain that is not Ready "
            f"({_flux(r)}): after the {what}, Flux would apply {r.env} only once {root} is "
            f"Ready. {root_remedy(root).capitalize()}, then retry")


def _undo_not_rollback(r: Reason) -> str:
    return (f"{_name(r)} is a {(r.kind or Kind.PROMOTION).value}, not a rollback: "
            f"`{ROLLBACK_COMMAND} undo` takes a rollback's name, like R-3")


def _undo_nothing(r: Reason) -> str:
    state = r.state.label if r.state else ""
    if r.next is Next.WAIT:
        return f"{_name(r)} is still {state}: wait for it to finish, then undo it"
    return f"{_name(r)} ended {state} without reverting anything: there is nothing to re-apply"


def _undo_of_undo(r: Reason) -> str:
    return (f"{_name(r)} re-applied a change: to remove it again, roll {r.env} back "
            f"(`{ROLLBACK_COMMAND} {r.env}`)")


def _window_closed(r: Reason) -> str:
    opens = utc(r.since) if r.since else "later"
    return (f"{r.env}'s change window is closed until {opens}, and this pipeline holds "
            f"emergencies to its windows (incidentsWaitForWindow): wait for it")


def _hotfix_exists(r: Reason) -> str:
    return (f"{text(r.branch or '')} already exists: push your fix to it and {HOTFIX_COMMAND} "
            f"promote {text(r.name or '')}, or pick another name")


def _hotfix_missing(r: Reason) -> str:
    return (f"there is no {text(r.branch or '')}: start it with {HOTFIX_COMMAND} start "
            f"{text(r.name or '')}")


def _hotfix_empty(r: Reason) -> str:
    branch = text(r.branch or "")
    return f"{branch} has no commit that {r.target} lacks: push the fix to {branch} first"


# -- failures ---------------------------------------------------------------------------------


def _check_failed(r: Reason) -> str:
    if r.kind is Kind.ROLLBACK:
        then = f"re-run it on the revert, or {_again(r)}"
    else:
        then = f"fix it on {text(r.branch or '')}, then {_again(r)}"
    return f"{text(r.check or '')} failed on {(r.sha or '')[:7]}: {then}"


def _pull_closed(r: Reason) -> str:
    return f"the pull request #{r.pull} was closed: {_again(r)}"


def _pull_merged_outside(r: Reason) -> str:
    return f"the pull request #{r.pull} was merged outside promotebot: {_again(r)}"


def _head_moved(r: Reason) -> str:
    return (f"the pull request head moved after approval (it was {(r.sha or '')[:7]}): nothing "
            f"was merged; {_again(r)} to review the new head")


def _not_mergeable(r: Reason) -> str:
    return (f"the pull request #{r.pull} cannot be merged ({text(r.message or '')}): resolve the "
            f"conflict between {text(r.branch or '')} and {r.target}, then {_again(r)}")


def _flux_failed(r: Reason) -> str:
    return (f"Flux could not apply {short_rev(r.revision)} to {r.env}: "
            f"{text(r.flux_reason or '')}: {text(r.message or '')}")


def _rollout_failed(r: Reason) -> str:
    return f"rollout of {text(r.deployment or '')} failed: {text(r.message or '')}"


def _timed_out(r: Reason) -> str:
    waited = duration(r.timeout) if r.timeout else "its timeout"
    flux = f"{text(r.flux_reason or 'no status')} {text(r.message or '')}".strip()
    where = progress(r.progress) if r.progress else "no progress"
    said = (f"{r.env} did not apply {short_rev(r.revision)} within {waited} ({where}; Flux "
            f"says: {flux})")
    if r.root is not None:
        said += f"; {root_remedy(r.root)}, and Flux applies it after all"
    return said


def _revert_conflict(r: Reason) -> str:
    branch = text(r.branch or "")
    if r.record is not None:  # an undo
        return (f"re-applying what {record_name(Kind.ROLLBACK, r.record)} removed does not "
                f"apply cleanly to {branch}: make it by hand (`git revert {(r.sha or '')[:7]}` "
                f"on {branch}, resolve, push), then promote it")
    return (f"the revert does not apply cleanly to {branch}: revert it there by hand "
            f"(the change from {(r.sha or '')[:7]} to {(r.target or '')[:7]}), then promote it")


def _revert_empty(r: Reason) -> str:
    return (f"{text(r.branch or '')} already is as the revert would make it: nothing was "
            f"pushed")


def _revert_raced(r: Reason) -> str:
    return (f"{r.branch} moved while the revert was pushed: nothing was reverted; "
            f"{ROLLBACK_COMMAND} {r.env} again")


def _protected(r: Reason) -> str:
    what = f"the merge of #{r.pull}" if r.pull is not None else "the push"
    rule = text((r.message or "protected").rstrip("."))
    return (f"{r.branch}'s branch protection refused {what}, saying: \"{rule}\". Nothing was "
            f"changed. Let promotebot past the rule (a bypass for its GitHub App or user, or a "
            f"ruleset exception: docs/deploy.md, \"Protected branches\"), or do it on GitHub "
            f"yourself")


def _merge_refused(r: Reason) -> str:
    return (f"GitHub refused to merge #{r.pull} ({text(r.message or '')}): nothing was merged; "
            f"{_again(r)} once it is fixed")


def _expired(r: Reason) -> str:
    return "expired waiting for its gates"


def progress(p: Progress) -> str:
    """Where a merged record stands, as a clause (the card's and a timeout's)."""
    if p.stage is Stage.FETCHING:
        return "waiting for Flux to fetch the merge"
    if p.stage is Stage.APPLYING:
        return f"source fetched {short_rev(p.revision)}; applying"
    if p.stage is Stage.DEPENDENCY:
        if p.root is not None:
            return (f"waiting for {p.root}, the first env of the chain that is not Ready "
                    f"({text(p.root_reason or 'no status')}: {text(p.root_message)})")
        return f"waiting for a dependency: {text(p.message)}"
    if p.stage is Stage.SUSPENDED:
        return f"{p.kustomization} is suspended: resume it to deploy"
    pods = ", ".join(f"{text(x.deployment)} {x.ready}/{x.desired} ready" for x in p.pods)
    return f"rollout: {pods}" if p.stage is Stage.ROLLOUT else f"{pods}"


_RENDER: dict[Code, Callable[[Reason], str]] = {
    Code.UNKNOWN_APP: _unknown_app,
    Code.NO_APP_FOR_CHANNEL: _no_app_for_channel,
    Code.UNKNOWN_ENV: _unknown_env,
    Code.NOT_FOUND: _not_found,
    Code.WRONG_NAME: _wrong_name,
    Code.SOURCE_WAIT_OVER: _source_wait_over,
    Code.UNDO_NOT_ROLLBACK: _undo_not_rollback,
    Code.UNDO_NOTHING: _undo_nothing,
    Code.UNDO_OF_UNDO: _undo_of_undo,
    Code.WINDOW_CLOSED: _window_closed,
    Code.REVERT_CONFLICT: _revert_conflict,
    Code.REVERT_EMPTY: _revert_empty,
    Code.INVALID_NAME: _invalid_name,
    Code.FIRST_ENV: _first_env,
    Code.WRONG_SOURCE: _wrong_source,
    Code.SOURCE_NOT_READY: _source_not_ready,
    Code.SOURCE_BEHIND: _source_behind,
    Code.NOTHING_TO_PROMOTE: _nothing_to_promote,
    Code.ALREADY_LIVE: _already_live,
    Code.FROZEN: _frozen,
    Code.ON_HOLD: _on_hold,
    Code.FROZEN_BY_CALENDAR: _frozen_by_calendar,
    Code.ALREADY_QUEUED: _already_queued,
    Code.NOT_QUEUED: _not_queued,
    Code.NO_APPROVAL_NEEDED: _no_approval_needed,
    Code.OWN_RECORD: _own_record,
    Code.NOT_PERMITTED: _not_permitted,
    Code.NOT_APPROVER: _not_approver,
    Code.WRONG_CHANNEL: _wrong_channel,
    Code.ALREADY_FROZEN: _already_frozen,
    Code.TOO_EARLY: _too_early,
    Code.TOO_LATE: _too_late,
    Code.FINISHED: _finished,
    Code.STALE_APPROVAL: _stale_approval,
    Code.EMPTY_REASON: _empty_reason,
    Code.EMPTY_PLAN: _empty_plan,
    Code.STILL_LIVE: _still_live,
    Code.NOT_RETRIED: _not_retried,
    Code.EMERGENCY_NOT_LAST: _emergency_not_last,
    Code.REVISION_UNKNOWN: _revision_unknown,
    Code.CHAIN_NOT_READY: _chain_not_ready,
    Code.HOTFIX_EXISTS: _hotfix_exists,
    Code.HOTFIX_MISSING: _hotfix_missing,
    Code.HOTFIX_EMPTY: _hotfix_empty,
    Code.CHECK_FAILED: _check_failed,
    Code.PULL_CLOSED: _pull_closed,
    Code.PULL_MERGED_OUTSIDE: _pull_merged_outside,
    Code.HEAD_MOVED: _head_moved,
    Code.NOT_MERGEABLE: _not_mergeable,
    Code.FLUX_FAILED: _flux_failed,
    Code.ROLLOUT_FAILED: _rollout_failed,
    Code.TIMED_OUT: _timed_out,
    Code.REVERT_RACED: _revert_raced,
    Code.PROTECTED: _protected,
    Code.MERGE_REFUSED: _merge_refused,
    Code.EXPIRED: _expired,
}
