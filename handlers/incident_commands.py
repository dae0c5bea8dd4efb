"""Parsing the text of `/rollback` and `/hotfix` into command values; no Slack, no engine, no I/O.

    /rollback <env> [app] [to <revision>] [emergency] [reason...]    /rollback help
    /rollback undo <name>   (a rollback's name, R-3: re-apply what it removed)
    /hotfix start <name> [app]    /hotfix promote <name> [app]        /hotfix help

Keywords are read only before the reason starts, so a reason may say "emergency" freely.
Whether an env, an app, a revision or a branch name is valid is the core's call; the parser
only catches a mistyped command word or app name, with the closest choice.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from dataclasses import dataclass

from handlers.commands import Help, Invalid, record_name
from handlers.messages import views
from slackbot.models import Kind

HOTFIX_SUBCOMMANDS = ("start", "promote", "help")
HELP_WORDS = ("help", "-h", "--help", "?")


@dataclass(frozen=True)
class Rollback:
    env: str
    app: str | None = None
    to: str | None = None  # None: the modal lists the env's revisions to choose from
    emergency: bool = False
    reason: str = ""


@dataclass(frozen=True)
class Undo:
    promotion_id: int
    kind: Kind | None = None


@dataclass(frozen=True)
class HotfixStart:
    name: str
    app: str | None = None


@dataclass(frozen=True)
class HotfixPromote:
    name: str
    app: str | None = None


RollbackCommand = Help | Rollback | Undo | Invalid
HotfixCommand = Help | HotfixStart | HotfixPromote | Invalid


def _close_app(word: str, apps: Collection[str]) -> str | None:
    found = difflib.get_close_matches(word, list(apps), n=1, cutoff=0.8)
    return found[0] if found and found[0] != word else None


def parse_rollback(text: str, apps: Collection[str] = ()) -> RollbackCommand:
    """`apps` (every app name of the pipeline) tells an app from the first word of a reason."""
    words = text.split()
    if not words or words[0].lower() in HELP_WORDS:
        return Help()
    if words[0].lower() == "undo":
        named = record_name(words[1]) if len(words) > 1 else None
        if isinstance(named, Invalid):
            return named
        if named is None:
            return Invalid(views.rollback_usage("undo <name>", "`undo` needs a rollback's name, "
                                                "like R-3"))
        return Undo(named[1], named[0])
    env, rest = words[0], words[1:]
    app: str | None = None
    if rest and rest[0] in apps:
        app, rest = rest[0], rest[1:]
    elif rest and (hint := _close_app(rest[0], apps)):
        return Invalid(views.rollback_unknown_app(rest[0], hint))
    to: str | None = None
    emergency = False
    while rest:
        word = rest[0].lower()
        if word == "to":
            if len(rest) < 2:
                return Invalid(
                    views.rollback_usage(
                        f"{env} to <revision>", "`to` needs a revision (a commit sha)"
                    )
                )
            to, rest = rest[1], rest[2:]
        elif word == "emergency":
            emergency, rest = True, rest[1:]
        else:
            break
    return Rollback(env, app, to, emergency, " ".join(rest))


def parse_hotfix(text: str, apps: Collection[str] = ()) -> HotfixCommand:
    words = text.split()
    if not words or words[0].lower() in HELP_WORDS:
        return Help()
    head, rest = words[0].lower(), words[1:]
    if head not in ("start", "promote"):
        meant = difflib.get_close_matches(head, HOTFIX_SUBCOMMANDS, n=1, cutoff=0.6)
        return Invalid(views.hotfix_unknown_subcommand(words[0], meant[0] if meant else None))
    if not rest:
        return Invalid(views.hotfix_usage(f"{head} <name>", f"`{head}` needs a hotfix name"))
    app: str | None = None
    if len(rest) > 1 and rest[-1] in apps:
        app, rest = rest[-1], rest[:-1]
    elif len(rest) > 1 and (hint := _close_app(rest[-1], apps)):
        return Invalid(views.hotfix_unknown_app(rest[-1], hint))
    name = " ".join(rest)  # a name with spaces is the core's to refuse, with its reason
    return HotfixStart(name, app) if head == "start" else HotfixPromote(name, app)
