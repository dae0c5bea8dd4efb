"""Parsing the text of `/promote` into a command value; no Slack, no engine, no I/O.
(`/rollback` and `/hotfix`: handlers/incident_commands.py.)

The parser knows only the command words. Whether an env or an app exists is the engine's
call (UnknownEnv/UnknownApp carry the closest choice); the parser only catches a mistyped
command word, and only when it is closer to a command than to any env it was told about.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass

from handlers.messages import views
from slackbot.models import Kind

SUBCOMMANDS = ("help", "status", "stats", "freeze", "unfreeze", "unlock", "cancel", "leave")
EVERY_APP = "all"  # `/promote freeze all`: every app and env


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Status:
    app: str | None = None


@dataclass(frozen=True)
class Stats:
    """`/promote stats [app]`: the DORA figures (anyone may read them)."""

    app: str | None = None


@dataclass(frozen=True)
class Promote:
    env: str
    app: str | None = None
    source: str | None = None  # `/promote prod from dev`: the engine refuses a skipped env


@dataclass(frozen=True)
class Freeze:
    env: str
    reason: str = ""
    app: str | None = None


@dataclass(frozen=True)
class Unfreeze:
    env: str
    app: str | None = None


@dataclass(frozen=True)
class Unlock:
    env: str
    app: str | None = None


@dataclass(frozen=True)
class FreezeWide:
    """`freeze all` (app None) or `freeze <app>`: every env of every app, or of one app."""

    app: str | None
    reason: str = ""


@dataclass(frozen=True)
class UnfreezeWide:
    app: str | None


@dataclass(frozen=True)
class Leave:
    env: str
    app: str | None = None


@dataclass(frozen=True)
class Cancel:
    promotion_id: int
    kind: Kind | None = None  # the letter typed (P-12): checked against the record's kind


@dataclass(frozen=True)
class Invalid:
    """The text is not a command; `answer` says what was probably meant."""

    answer: str


Command = (Help | Status | Stats | Promote | Freeze | Unfreeze | Unlock | Cancel | FreezeWide
           | UnfreezeWide | Leave | Invalid)


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


def parse(text: str, envs: Collection[str] = (), apps: Collection[str] = ()) -> Command:
    """`envs` and `apps` (every name the pipeline has) only sharpen the typo check."""
    words = text.split()
    if not words:
        return Help()
    head, rest = words[0].lower(), words[1:]
    if head in ("help", "-h", "--help", "?"):
        return Help()
    if head == "status":
        return Status(rest[0] if rest else None)
    if head == "stats" and "stats" not in envs:
        return Stats(rest[0] if rest else None)
    if head in ("freeze", "unfreeze", "unlock"):
        if not rest:
            return Invalid(views.usage(f"{head} <env>", f"`{head}` needs an environment"))
        env = rest[0]
        wide = _wide(env, envs, apps)
        if head == "freeze" and wide is not None:
            return FreezeWide(wide or None, " ".join(rest[1:]))
        if head == "unfreeze" and wide is not None:
            return UnfreezeWide(wide or None)
        if head == "freeze":
            app, reason_words = _app_prefix(rest[1:], apps)
            return Freeze(env, " ".join(reason_words), app)
        if head == "unfreeze":
            return Unfreeze(env, rest[1] if len(rest) > 1 else None)
        return Unlock(env, rest[1] if len(rest) > 1 else None)
    if head == "leave":
        if not rest:
            return Invalid(views.usage("leave <env>", "`leave` needs an environment"))
        return Leave(rest[0], rest[1] if len(rest) > 1 else None)
    if head == "cancel":
        named = record_name(rest[0]) if rest else None
        if isinstance(named, Invalid):
            return named
        if named is None:
            return Invalid(views.usage("cancel <name>", "`cancel` needs a promotion's name, "
                                       "like P-12"))
        return Cancel(named[1], named[0])
    if head in envs:
        return _promote(words[0], rest)
    command = difflib.get_close_matches(head, SUBCOMMANDS, n=1, cutoff=0.6)
    if command:
        env_score = max((_ratio(head, env) for env in envs), default=0.0)
        if _ratio(head, command[0]) > env_score:
            return Invalid(views.unknown_subcommand(words[0], command[0]))
    return _promote(words[0], rest)


NAME = re.compile(r"^(?:(?P<letter>[PRHprh])-?)?(?P<number>\d{1,9})$")
LETTERS = {kind.letter: kind for kind in Kind}


def record_name(word: str) -> tuple[Kind | None, int] | Invalid | None:
    """`P-12` (or `p12`, or `12`) as (kind, number); `#12` is a pull request, said so; None
    when the word is no name at all."""
    if word.startswith("#") and word[1:].isdigit():
        return Invalid(views.not_a_record_name(word))
    found = NAME.match(word)
    if found is None:
        return None
    letter = found.group("letter")
    return (LETTERS[letter.upper()] if letter else None), int(found.group("number"))


def _promote(env: str, rest: list[str]) -> Promote | Invalid:
    """`<env> [app] [from <env>]`, in either order after the env."""
    source = None
    if "from" in rest:
        at = rest.index("from")
        if at + 1 >= len(rest):
            return Invalid(views.usage(f"{env} from <env>", "`from` needs an environment"))
        source = rest[at + 1]
        rest = rest[:at] + rest[at + 2 :]
    return Promote(env, rest[0] if rest else None, source)


def _app_prefix(words: list[str], apps: Collection[str]) -> tuple[str | None, list[str]]:
    """`freeze prod myapp late night deploy` names the app when its first word is one."""
    if words and words[0] in apps:
        return words[0], words[1:]
    return None, words


def _wide(word: str, envs: Collection[str], apps: Collection[str]) -> str | None:
    """A freeze of every app ("": `all`) or of one app (its name, when no env is called so);
    None for an env's own freeze."""
    if word.lower() == EVERY_APP:
        return ""
    if word in apps and word not in envs:
        return word
    return None
