"""What the bot writes into git and GitHub: pull request titles and bodies, merge commit titles,
revert commit messages and the comments it leaves on pull requests.

These texts are part of the repository's history and of the pull request's record, the same
whatever front end people use, so they are the core's own (Slack wording lives in
handlers/messages/). A record is named `P-12`, `R-3`, `H-2`; `#12` is only ever a pull request
(GitHub links it). People are named as the front end knows them (a display name), and by
`@login` only where GitHub knows them (reviewers, commit authors): an `@` before a Slack id
would ping a stranger on GitHub.
"""

from __future__ import annotations

import re

from slackbot.models import GateNote, GateResult, Kind, Promotion, State
from slackbot.plurals import counted, noun
from slackbot.ports import CommitInfo

PLAN_MARKER = "### Rollback plan"
SECTION_START = "<!-- promotebot:status -->"
SECTION_END = "<!-- /promotebot:status -->"
PLAN_START = "<!-- promotebot:plan -->"
PLAN_END = "<!-- /promotebot:plan -->"

# Ticket references in commit messages: an issue tracker key (ABC-123: two to ten capitals or
# digits, starting with a capital) or a GitHub issue (#45, acme/myapp#45). A commit the bot
# wrote itself (its title carries a record's name, `[P-12]`) or GitHub's "Merge pull request
# #N" is left out: those numbers are pull requests, not tickets.
TICKET = re.compile(r"(?<![\w/-])(?:[A-Z][A-Z0-9]{1,9}-\d+|(?:[\w.-]+/[\w.-]+)?#\d+)\b")
NOT_TICKETS = frozenset({"UTF", "SHA", "ISO", "RFC"})
OURS = re.compile(r"\[(?:P|R|H)-\d+\]|^Merge pull request #\d+")


def _tag(record: Promotion) -> str:
    return f"[{record.name}]"


def pull_title(record: Promotion, commits: int) -> str:
    if record.rollback is not None:
        return (f"{record.name}: roll back {record.app} {record.rollback.asked_env or record.env}"
                f" to {record.rollback.target[:7]}")
    if record.kind is Kind.HOTFIX:
        return (f"{record.name}: hotfix {record.source_branch} into {record.env} "
                f"({counted(commits, 'commit')})")
    return f"{record.name}: promote {record.app} to {record.env} ({counted(commits, 'commit')})"


def tickets(commits: tuple[CommitInfo, ...]) -> tuple[str, ...]:
    """The ticket references of the commits' messages, in order, each once."""
    found: list[str] = []
    for commit in commits:
        if OURS.search(commit.message or ""):
            continue
        for ref in TICKET.findall(commit.message or ""):
            if ref.split("-")[0] not in NOT_TICKETS and ref not in found:
                found.append(ref)
    return tuple(found)


def _author(commit: CommitInfo) -> str:
    if commit.login and commit.author:
        return f"@{commit.author}"
    return commit.author or "unknown"


def pull_body(record: Promotion, commits: tuple[CommitInfo, ...], files: tuple[str, ...],
              requester: str) -> str:
    """`requester`: the requester as the front end names them."""
    refs = tickets(commits)
    lines = [
        f"{record.kind.value.capitalize()} {record.name} of `{record.app}` from "
        f"`{record.source_branch}` to `{record.target_branch}`, requested by {requester} "
        f"through promotebot.",
        "",
        f"### Commits ({len(commits)})",
        *(f"- {c.sha[:7]} {c.message.splitlines()[0] if c.message else ''} ({_author(c)})"
          for c in commits),
        "",
        f"### Tickets ({len(refs)})",
        *(f"- {ref}" for ref in refs),
        *(["- none found in the commit messages"] if not refs else []),
        "",
        f"### Changed files ({len(files)})",
        *(f"- `{f}`" for f in files),
    ]
    return "\n".join(lines)


def _replace_section(body: str, start: str, end: str, content: str) -> str:
    """The body with the section between `start` and `end` rewritten (appended if absent)."""
    section = f"{start}\n{content.strip()}\n{end}"
    if start in body and end in body.split(start, 1)[1]:
        before, rest = body.split(start, 1)
        after = rest.split(end, 1)[1]
        return f"{before}{section}{after}"
    return f"{body.rstrip()}\n\n{section}\n"


def with_plan(body: str, plan: str, user: str) -> str:
    """The pull request body with its rollback plan section written (or rewritten); `user`
    as the front end names them."""
    if PLAN_MARKER in body and PLAN_START not in body:  # a body written before the markers
        kept, _, rest = body.partition(PLAN_MARKER)
        body = kept.rstrip() + ("\n\n" + rest[rest.index(SECTION_START):]
                                if SECTION_START in rest else "")
    return _replace_section(body, PLAN_START, PLAN_END,
                            f"{PLAN_MARKER}\n\n{plan}\n\n_(written by {user})_")


def with_status(body: str, status: str) -> str:
    """The pull request body with promotebot's one status section rewritten in place."""
    return _replace_section(body, SECTION_START, SECTION_END, status)


def status_section(record: Promotion, people: dict[str, str]) -> str:
    """Where the record stands, for its pull request: its state, each gate's verdict on the
    pinned head (approvers and reviewers by name), its failure, its deploy. `people`: the
    front end's names of the Slack users it mentions."""
    state = record.state.label
    lines = [f"### promotebot: {record.name} is {state}"]
    if record.gates:
        lines.append("")
        lines.extend(f"- {_mark(g)} {_gate(g, people)}" for g in record.gates)
    if record.merge_sha:
        lines += ["", f"Merged as {record.merge_sha[:7]}."]
    if record.state is State.DEPLOYED:
        lines.append(f"Deployed: `{record.env}` applied {record.target_branch}@"
                     f"{(record.merge_sha or '')[:7]} and rolled out.")
        if record.recovered_at is not None and record.failure is not None:
            after = (record.failure.flux_reason if record.failure.code.value == "flux_failed"
                     else record.failure.code.value.replace("_", " "))
            lines.append(f"Recovered at {record.recovered_at:%Y-%m-%d %H:%M} UTC after {after} "
                         f"(Flux applied it on a retry).")
    elif record.state is State.FAILED and record.failure is not None:
        failure = record.failure
        why = failure.flux_reason or failure.check or failure.code.value.replace("_", " ")
        detail = f": {failure.message}" if failure.message else ""
        lines.append(f"Failed ({why}){detail}")
    elif record.state is State.REJECTED and record.rejection is not None:
        who = people.get(record.rejection.user, record.rejection.user)
        lines.append(f"Rejected by {who}: {record.rejection.reason}")
    lines += ["", "_This section is rewritten by promotebot as the promotion moves._"]
    return "\n".join(lines)


def _mark(gate: GateResult) -> str:
    return {"passed": "[x]", "failed": "[!]"}.get(gate.status.value, "[ ]")


def _gate(gate: GateResult, people: dict[str, str]) -> str:
    sha = gate.sha[:7]
    match gate.note:
        case GateNote.SOURCE_RUNS_HEAD:
            return f"{gate.env} runs {sha} and is Ready"
        case GateNote.SOURCE_BEHIND:
            return f"{gate.env} has not applied {sha} yet"
        case GateNote.SOURCE_NOT_READY:
            root = f" (it waits on {gate.root}: {gate.flux_reason})" if gate.root else ""
            return f"{gate.env} is not Ready{root}"
        case GateNote.CHECK_PASSED | GateNote.CHECK_FAILED | GateNote.CHECK_RUNNING | \
                GateNote.CHECK_MISSING:
            return f"check `{gate.check}`: {gate.note.value.removeprefix('check_')}"
        case GateNote.CHANGES_REQUESTED:
            return "changes requested by " + ", ".join(f"@{u}" for u in gate.who)
        case GateNote.REVIEWS_COUNTED | GateNote.REVIEWS_REQUESTER_UNKNOWN:
            names = ", ".join(f"@{u}" for u in gate.who)
            return (f"{gate.have} of {gate.need} approving {noun(gate.need, 'review')}"
                    + (f" ({names})" if names else ""))
        case GateNote.APPROVALS_COUNTED:
            names = ", ".join(people.get(u, u) for u in gate.who)
            return f"{gate.have} of {gate.need} stakeholder {noun(gate.need, 'approval')}" + (
                f" ({names})" if names else "")
        case GateNote.PLAN_WRITTEN:
            return "rollback plan written"
        case GateNote.PLAN_NEEDED:
            return "rollback plan needed"
        case GateNote.WINDOW_OPEN:
            return "change window open"
        case GateNote.WINDOW_CLOSED:
            opens = f"{gate.opens:%a %Y-%m-%d %H:%M} UTC" if gate.opens else "later"
            return f"change window closed; opens {opens}"
    return gate.name


def merge_title(record: Promotion) -> str:
    """The merge commit's title: what the change is, in the branch's history; the pull request
    as `(#N)`, which GitHub links."""
    pull = f" (#{record.pr_number})" if record.pr_number else ""
    if record.kind is Kind.HOTFIX:
        return (f"Hotfix {record.source_branch} into {record.env} ({record.short_sha}) "
                f"{_tag(record)}{pull}")
    if record.rollback is not None:
        return (f"Roll back {record.app} {record.rollback.asked_env or record.env} to "
                f"{record.rollback.target[:7]} {_tag(record)}{pull}")
    return f"Promote {record.app} to {record.env} ({record.short_sha}) {_tag(record)}{pull}"


def revert_message(record: Promotion, requester: str) -> str:
    assert record.rollback is not None
    spec = record.rollback
    head, target = spec.from_head, spec.target
    asked = spec.asked_env or record.env
    if asked != record.env:  # the revert lands on the lowest env that has the change
        return (
            f"Roll back {asked} to {target[:7]}, from {record.target_branch} {_tag(record)}\n\n"
            f"This removes from {record.target_branch} what {asked} got between {target} and\n"
            f"{head}, so the revert is promoted up as any change is.\n"
            f"Requested by {requester} through promotebot."
        )
    return (
        f"Roll back {record.target_branch} to {target[:7]} {_tag(record)}\n\n"
        f"This reverts {record.target_branch} from {head} back to {target}: the tree of\n"
        f"{target} on top of {head}, as `git revert -m 1` of each merge since would give.\n"
        f"Requested by {requester} through promotebot."
    )


def carried_message(record: Promotion, base: str, revert: str) -> str:
    """The revert of an emergency rollback, made again on a branch below."""
    return (
        f"Carry {record.name}'s revert down to {base} {_tag(record)}\n\n"
        f"{record.target_branch} was reverted in an emergency by {revert[:7]}; this makes the\n"
        f"same change on {base}, so the branches keep the same content and a later sync\n"
        f"removes nothing silently."
    )


def undo_message(record: Promotion, undone: Promotion, requester: str) -> str:
    return (
        f"Re-apply what {undone.name} rolled back {_tag(record)}\n\n"
        f"{undone.name} reverted {undone.target_branch} to "
        f"{(undone.rollback.target if undone.rollback else '')[:7]}; this commit makes its\n"
        f"change again on {record.target_branch}, to be promoted up as any change is.\n"
        f"Requested by {requester} through promotebot."
    )


def sync_message(record: Promotion, head: str, base: str, backport: bool) -> str:
    verb = "Backport" if backport else "Sync"
    return f"{verb} {head} into {base} after {record.name} {_tag(record)}"


def sync_pull_title(record: Promotion, head: str, base: str, backport: bool) -> str:
    verb = "Backport" if backport else "Sync"
    return f"{record.name}: {verb.lower()} {head} into {base}"


def sync_pull_body(record: Promotion, head: str, base: str) -> str:
    return (f"promotebot could not merge `{head}` into `{base}` cleanly after "
            f"{record.kind.value} {record.name}: resolve the conflict here and merge.")


def carry_pull_body(record: Promotion, base: str) -> str:
    return (f"{record.name} reverted `{record.target_branch}` in an emergency; its revert does "
            f"not apply cleanly to `{base}`. Merging this brings `{record.target_branch}` (and "
            f"the revert) into `{base}`: resolve the conflict here and merge.")


# -- comments on pull requests ------------------------------------------------------------------


def rejected_comment(user: str, reason: str) -> str:
    return f"Rejected by {user}: {reason}"


def cancelled_comment(user: str) -> str:
    return f"Cancelled by {user}."


def frozen_comment(env: str, user: str, reason: str) -> str:
    return (f"{env} is frozen by {user} ({reason}): no promotion into it starts until "
            f"/promote unfreeze {env}.")


def unfrozen_comment(env: str, user: str) -> str:
    return f"{env} is no longer frozen ({user})."


def wide_frozen_comment(scope: str, user: str, reason: str) -> str:
    """A freeze of every app (`scope` "all") or of every env of one app (`scope` the app)."""
    what = "every app" if scope == "all" else f"every environment of {scope}"
    return (f"{what} is frozen by @{user} ({reason}): no promotion starts until "
            f"/promote unfreeze {scope}.")


def wide_unfrozen_comment(scope: str, user: str) -> str:
    what = "every app" if scope == "all" else f"every environment of {scope}"
    return f"{what} is no longer frozen (@{user})."


def rolled_back_comment(rollback: Promotion, requester: str) -> str:
    assert rollback.rollback is not None
    spec, env = rollback.rollback, rollback.rollback.asked_env or rollback.env
    because = f" ({spec.reason})" if spec.reason else ""
    return (f"Rolled back by {rollback.name} ({requester}): {env} returns to "
            f"{spec.target[:7]}{because}. `/rollback undo {rollback.name}` brings the change "
            f"back.")


def undo_comment(undo: Promotion, requester: str) -> str:
    return (f"{requester} asked {undo.name} to re-apply this change on {undo.target_branch}; "
            f"it is promoted up from there like any change.")


def synced_comment(head: str, base: str, sha: str | None, fast_forward: bool = False) -> str:
    if sha is None:
        return f"{base} already has everything in {head}"
    if fast_forward:
        return f"{base} fast-forwarded to {head} ({sha[:7]})"
    return f"{head} merged into {base} as {sha[:7]}"


def carried_comment(record: Promotion, base: str, sha: str | None,
                    files: tuple[str, ...]) -> str:
    if sha is None:
        return f"{base} did not have what {record.name} reverted: nothing to remove there"
    listed = ", ".join(f"`{f}`" for f in files[:20]) or "no file"
    return f"{record.name}'s revert carried down to {base} as {sha[:7]}; it changes {listed}"


def sync_conflict_comment(head: str, base: str, number: int | None, url: str | None) -> str:
    if number is None:
        return (f"{head} conflicts with {base}, and the pull request could not be opened: "
                f"merge it by hand")
    return f"{head} conflicts with {base}: resolve it in pull request #{number} {url}"


def sync_failed_comment(head: str, base: str) -> str:
    return (f"{head} could not be merged into {base}: GitHub refused; merge it by hand "
            f"(git merge {head})")


# -- GitHub write-back (slackbot/engine/writeback.py): GitHub caps each at 140 characters ----

GITHUB_DESCRIPTION = 140


def _short(text: str) -> str:
    return text if len(text) <= GITHUB_DESCRIPTION else text[:GITHUB_DESCRIPTION - 1] + "…"


def deployment_description(record: Promotion) -> str:
    what = {Kind.ROLLBACK: "rollback", Kind.HOTFIX: "hotfix"}.get(record.kind, "promotion")
    return _short(f"{record.name}: {what} of {record.app} to {record.env} by promotebot")


def deployment_status_description(record: Promotion, state: str) -> str:
    if state == "success":
        return _short(f"{record.name}: Flux applied it Ready in {record.env}")
    if state == "failure":
        code = record.failure.code.value if record.failure is not None else record.state.value
        return _short(f"{record.name}: the deploy to {record.env} failed ({code})")
    return _short(f"{record.name}: merged; Flux is applying it in {record.env}")


def commit_status_description(record: Promotion, state: str) -> str:
    if state == "success":
        return _short(f"{record.name}: deployed to {record.env}")
    return _short(f"{record.name}: {record.state.label} in {record.env}")
