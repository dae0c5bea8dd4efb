"""What a promotion carries: its commits (subject, author, ticket references) and how many files
it changes, kept on the record so the card shows what is approved without asking GitHub again.

Read once from GitHub's comparison when the pull request is opened or adopted, and again when
its head moves (slackbot/engine/steps.py). Pure values and parsing; no I/O, no wording (the
card's words are in handlers/messages/changes.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from slackbot.ports import CommitInfo, Comparison

# A ticket reference like ABC-123 (Jira, Linear, YouTrack keys); an app may give its own.
DEFAULT_TICKET_PATTERN = r"\b[A-Z][A-Z0-9]{1,9}-[0-9]{1,7}\b"
KEPT = 20  # commits kept on the record (the card shows fewer; the compare link shows all)
TICKETS_PER_COMMIT = 3
SUBJECT_MAX = 200


@dataclass(frozen=True)
class CommitSummary:
    sha: str
    subject: str  # the message's first line, as the author wrote it (unescaped)
    author: str  # a GitHub login when `login`, else the git author's name
    login: bool = False
    tickets: tuple[str, ...] = ()  # ticket references found in the subject and body


@dataclass(frozen=True)
class Changes:
    """The commits a promotion's head adds to the target branch, newest last."""

    commits: tuple[CommitSummary, ...]  # at most KEPT, the newest ones
    total: int  # every commit the head adds (GitHub's ahead_by)
    files: int  # files changed since the merge base (GitHub lists up to 300)
    compare_url: str = ""  # GitHub's page of the whole comparison
    head: str = ""  # the head these are of
    moved_from: str | None = None  # the earlier head, when the head moved

    @property
    def hidden(self) -> int:
        return max(0, self.total - len(self.commits))


def tickets(message: str, pattern: str = DEFAULT_TICKET_PATTERN) -> tuple[str, ...]:
    """The distinct ticket references in a commit message, in order of appearance."""
    found: list[str] = []
    for match in re.finditer(pattern, message):
        ref = match.group(0)
        if ref not in found:
            found.append(ref)
        if len(found) == TICKETS_PER_COMMIT:
            break
    return tuple(found)


def summary(commit: CommitInfo, pattern: str = DEFAULT_TICKET_PATTERN) -> CommitSummary:
    subject = (commit.message.strip().splitlines() or [""])[0].strip()[:SUBJECT_MAX]
    return CommitSummary(commit.sha, subject, commit.author, commit.login,
                         tickets(commit.message, pattern))


def compare_url(pull_url: str | None, base: str, head: str) -> str:
    """GitHub's comparison page, next to the pull request's (`.../pull/12` ->
    `.../compare/base...head`); empty when there is no pull request to start from."""
    if not pull_url or "/pull/" not in pull_url:
        return ""
    return f"{pull_url.rsplit('/pull/', 1)[0]}/compare/{base}...{head}"


def of(comparison: Comparison, pull_url: str | None, base: str, head: str,
       pattern: str = DEFAULT_TICKET_PATTERN, moved_from: str | None = None) -> Changes:
    """The record's value from GitHub's comparison of `base` (the target branch) with `head`
    (the pinned sha); the link compares from the merge base, so it keeps its meaning after
    the merge."""
    listed: Sequence[CommitInfo] = comparison.commits[-KEPT:]
    start = comparison.merge_base or base
    return Changes(
        commits=tuple(summary(c, pattern) for c in listed),
        total=max(comparison.ahead_by, len(comparison.commits)),
        files=len(comparison.files),
        compare_url=compare_url(pull_url, start, head),
        head=head,
        moved_from=moved_from,
    )
