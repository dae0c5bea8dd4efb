"""Counted nouns for every sentence the bot writes: "1 commit", "3 commits", never "1 commits".

The one helper that both the core's texts for git and GitHub (engine/writing.py) and the
Slack words (handlers/messages/) use. It writes no sentence, only a number and its noun.
"""

from __future__ import annotations


def noun(count: int, one: str, many: str | None = None) -> str:
    """The noun as `count` asks for it: `one` for exactly 1, else `many` (default `one`+s)."""
    return one if count == 1 else (many or f"{one}s")


def counted(count: int, one: str, many: str | None = None) -> str:
    """`counted(1, "commit")` -> "1 commit"; `counted(0, "commit")` -> "0 commits"."""
    return f"{count} {noun(count, one, many)}"
