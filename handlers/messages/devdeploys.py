"""The words of a dev deploy report: the day's message of an app in its deploys channel, and
one line per revision Flux applied (or failed to apply) with its commits and authors.

Every commit subject and author came from git, and Flux's message from the cluster: each is
escaped here, so none can mention, link or broadcast.
"""

from __future__ import annotations

from datetime import date

from handlers import mrkdwn
from handlers.messages.changes import commit_line
from handlers.messages.words import text
from slackbot.devdeploys import DevDeploy
from slackbot.plurals import counted

SHOWN = 5
MESSAGE_SHOWN = 500


def day_title(app: str, env: str, day: date) -> str:
    return f":package: *{text(app)}* on *{text(env)}*, {day.isoformat()}: pushes Flux applied"


def report(deploy: DevDeploy) -> str:
    """One revision: how it went, then its newest commits (the rest counted)."""
    sha = f"`{mrkdwn.short(deploy.sha)}`"
    if deploy.ready:
        head = f":white_check_mark: {sha} is applied on {text(deploy.env)}: Ready."
    else:
        said = text(mrkdwn.clip(deploy.message or "no message", MESSAGE_SHOWN))
        head = f":x: {sha} failed on {text(deploy.env)}: {said}"
    lines = [head]
    shown = list(reversed(deploy.commits))[:SHOWN]
    lines.extend(commit_line(c) for c in shown)
    if deploy.total > len(shown):
        lines.append(f"…and {deploy.total - len(shown)} more")
    return "\n".join(lines)


def day_summary(app: str, env: str, day: date, count: int, latest: DevDeploy) -> str:
    """The day's parent message, kept saying how many deploys and how the last one went."""
    return (f"{day_title(app, env, day)}\n{_count(count)} today; the latest, "
            f"`{mrkdwn.short(latest.sha)}`, {_how(latest)}. Each one is in the thread.")


def day_fallback(app: str, env: str, day: date, count: int, latest: DevDeploy) -> str:
    return (f"{app} on {env}, {day.isoformat()}: {_count(count)}; the latest "
            f"{mrkdwn.short(latest.sha)} {_how(latest)}")


def fallback(deploy: DevDeploy) -> str:
    """The reply's notification text: the revision, how it went, its newest commit."""
    said = f"{mrkdwn.short(deploy.sha)} is applied on {deploy.env}: Ready." if deploy.ready \
        else f"{mrkdwn.short(deploy.sha)} failed on {deploy.env}."
    if deploy.commits:
        newest = deploy.commits[-1]
        said += f" {mrkdwn.clip(newest.subject, 100)} ({mrkdwn.clip(newest.author, 40)})"
    return text(said)


def _count(count: int) -> str:
    return counted(count, "deploy")


def _how(deploy: DevDeploy) -> str:
    return "Ready" if deploy.ready else "failed"
