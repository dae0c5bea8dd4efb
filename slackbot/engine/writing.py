"""What the bot writes into git and GitHub: pull request titles and bodies, merge commit titles,
revert commit messages and the comments it leaves on pull requests.

These texts are part of the repository's history and of the pull request's record, the same
whatever front end people use, so they are the core's own (Slack wording lives in
handlers/messages/). People are named `@<id>` as the front end knows them.
"""

from __future__ import annotations

from slackbot.models import Kind, Promotion
from slackbot.ports import CommitInfo

PLAN_MARKER = "### Rollback plan"


def pull_title(record: Promotion, commits: int) -> str:
    if record.rollback is not None:
        return f"Roll back {record.app} {record.env} to {record.rollback.target[:7]} (#{record.id})"
    if record.kind is Kind.HOTFIX:
        return f"Hotfix {record.source_branch} into {record.env} ({commits} commits)"
    return f"Promote {record.app} to {record.env} ({commits} commits)"


def pull_body(record: Promotion, commits: tuple[CommitInfo, ...], files: tuple[str, ...]) -> str:
    lines = [
        f"Promotion #{record.id} of `{record.app}` from `{record.source_branch}` to "
        f"`{record.target_branch}`, requested by @{record.requested_by} through promotebot.",
        "",
        f"### Commits ({len(commits)})",
        *(f"- {c.sha[:7]} {c.message.splitlines()[0] if c.message else ''} ({c.author})"
          for c in commits),
        "",
        f"### Changed files ({len(files)})",
        *(f"- `{f}`" for f in files),
    ]
    return "\n".join(lines)


def with_plan(body: str, plan: str, user: str) -> str:
    """The pull request body with its rollback plan section written (or rewritten)."""
    kept = body.split(PLAN_MARKER)[0].rstrip()
    return f"{kept}\n\n{PLAN_MARKER}\n\n{plan}\n\n_(written by @{user})_\n"


def merge_title(record: Promotion) -> str:
    """The merge commit's title: what the change is, in the branch's history."""
    if record.kind is Kind.HOTFIX:
        return f"Hotfix {record.source_branch} into {record.env} ({record.short_sha}) #{record.id}"
    if record.rollback is not None:
        return f"Roll back {record.app} {record.env} to {record.rollback.target[:7]} #{record.id}"
    return f"Promote {record.app} to {record.env} ({record.short_sha}) #{record.id}"


def revert_message(record: Promotion) -> str:
    assert record.rollback is not None
    head, target = record.rollback.from_head, record.rollback.target
    return (
        f"Roll back {record.target_branch} to {target[:7]} (rollback #{record.id})\n\n"
        f"This reverts {record.target_branch} from {head} back to {target}: the tree of\n"
        f"{target} on top of {head}, as `git revert -m 1` of each merge since would give.\n"
        f"Requested by @{record.requested_by} through promotebot."
    )


def sync_message(record: Promotion, head: str, base: str, backport: bool) -> str:
    verb = "Backport" if backport else "Sync"
    return f"{verb} {head} into {base} after {record.kind.value} #{record.id}"


def sync_pull_title(record: Promotion, head: str, base: str, backport: bool) -> str:
    verb = "Backport" if backport else "Sync"
    return f"{verb} {head} into {base} ({record.kind.value} #{record.id})"


def sync_pull_body(record: Promotion, head: str, base: str) -> str:
    return (f"promotebot could not merge `{head}` into `{base}` cleanly after "
            f"{record.kind.value} #{record.id}: resolve the conflict here and merge.")


# -- comments on pull requests ------------------------------------------------------------------


def rejected_comment(user: str, reason: str) -> str:
    return f"Rejected by @{user}: {reason}"


def cancelled_comment(user: str) -> str:
    return f"Cancelled by @{user}."


def merged_comment(record: Promotion, merge_sha: str) -> str:
    return (f"Merged {merge_sha[:7]} for @{record.requested_by} ({record.kind.value} "
            f"#{record.id}); waiting for Flux.")


def frozen_comment(env: str, user: str, reason: str) -> str:
    return (f"{env} is frozen by @{user} ({reason}): no promotion into it starts until "
            f"/promote unfreeze {env}.")


def unfrozen_comment(env: str, user: str) -> str:
    return f"{env} is no longer frozen (@{user})."


def wide_frozen_comment(scope: str, user: str, reason: str) -> str:
    """A freeze of every app (`scope` "all") or of every env of one app (`scope` the app)."""
    what = "every app" if scope == "all" else f"every environment of {scope}"
    return (f"{what} is frozen by @{user} ({reason}): no promotion starts until "
            f"/promote unfreeze {scope}.")


def wide_unfrozen_comment(scope: str, user: str) -> str:
    what = "every app" if scope == "all" else f"every environment of {scope}"
    return f"{what} is no longer frozen (@{user})."


def rolled_back_comment(rollback: Promotion) -> str:
    assert rollback.rollback is not None
    spec, env = rollback.rollback, rollback.env
    because = f" ({spec.reason})" if spec.reason else ""
    return (f"Rolled back by rollback #{rollback.id} (@{rollback.requested_by}): {env} returns "
            f"to {spec.target[:7]}{because}. Promotions into {env} are on hold until "
            f"/promote unlock {env}.")


def synced_comment(head: str, base: str, sha: str | None) -> str:
    if sha is None:
        return f"{base} already has everything in {head}"
    return f"{head} merged into {base} as {sha[:7]}"


def sync_conflict_comment(head: str, base: str, number: int | None, url: str | None) -> str:
    if number is None:
        return (f"{head} conflicts with {base}, and the pull request could not be opened: "
                f"merge it by hand")
    return f"{head} conflicts with {base}: resolve it in pull request #{number} {url}"


def sync_failed_comment(head: str, base: str) -> str:
    return (f"{head} could not be merged into {base}: GitHub refused; merge it by hand "
            f"(git merge {head})")
