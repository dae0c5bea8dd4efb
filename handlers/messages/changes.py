"""The words of what a promotion carries: its commits (subject, author, tickets), how many
files change, the compare link on GitHub, and that the head moved, on the card.

The core keeps the list on the record (slackbot/changes.py); every piece of it came from git
authors, so each is escaped here and nothing in it can mention, link or broadcast.
"""

from __future__ import annotations

from handlers import mrkdwn
from handlers.messages.words import text
from slackbot.changes import Changes, CommitSummary
from slackbot.plurals import counted

SHOWN = 5  # commits listed on the card; the rest are behind the compare link
SUBJECT_SHOWN = 120
LINE_MAX = 300


def commit_line(commit: CommitSummary) -> str:
    """"• `abc1234` Fix the login ABC-123 (alice)": a ticket only in the body is added."""
    subject = commit.subject or "(no subject)"
    extra = [t for t in commit.tickets if t not in subject]
    line = f"• `{mrkdwn.short(commit.sha)}` {text(mrkdwn.clip(subject, SUBJECT_SHOWN))}"
    if extra:
        line += " " + " ".join(f"`{text(t)}`" for t in extra)
    if commit.author:
        line += f" ({text(mrkdwn.clip(commit.author, 60))})"
    return mrkdwn.clip(line, LINE_MAX)


def summary(changes: Changes) -> str:
    """The card's section: a title line, the head's move, the newest commits, the rest."""
    title = (f"*What is promoted:* {counted(changes.total, 'commit')}, "
             f"{counted(changes.files, 'file')} changed")
    if changes.compare_url:
        title += f" · {mrkdwn.link(changes.compare_url, 'compare on GitHub')}"
    lines = [title]
    if changes.moved_from:
        lines.append(f":arrows_counterclockwise: New head `{mrkdwn.short(changes.head)}` "
                     f"(was `{mrkdwn.short(changes.moved_from)}`): the list is the new head's.")
    if not changes.commits:
        lines.append("No commits: the target branch already has everything.")
    shown = list(reversed(changes.commits))[:SHOWN]  # newest first
    lines.extend(commit_line(c) for c in shown)
    more = changes.total - len(shown)
    if more > 0:
        rest = f"…and {more} more"
        if changes.compare_url:
            rest += f": {mrkdwn.link(changes.compare_url, 'see them all on GitHub')}"
        lines.append(rest)
    return "\n".join(lines)
