"""Block Kit of the DORA figures: the `/promote stats` reply and App Home's compact section.
The words are handlers/messages/stats.py; the counting is slackbot/dora.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from handlers import blocks
from handlers.messages import stats as words
from slackbot.dora import Figures

Json = blocks.Json
HOME_WINDOW = 30  # the days App Home shows (the reply shows every window)


def _grouped(figures: Sequence[Figures]) -> dict[str, dict[str, list[Figures]]]:
    apps: dict[str, dict[str, list[Figures]]] = {}
    for f in figures:
        apps.setdefault(f.app, {}).setdefault(f.env, []).append(f)
    return apps


def stats_message(figures: Sequence[Figures], app: str | None,
                  failure_window: timedelta) -> Json:
    """Per app, per env, one line per window; a closing line of what the figures count."""
    found: list[Json] = []
    for name, envs in _grouped(figures).items():
        found.append({"type": "header", "text": {"type": "plain_text",
                                                 "text": words.title(name)[:150]}})
        found += [blocks.section(words.env_block(env, rows)) for env, rows in envs.items()]
    if not found:
        found.append(blocks.section(words.no_envs(app)))
    room = blocks.MESSAGE_BLOCKS_MAX - 1
    closing = {"type": "context", "elements": [
        {"type": "mrkdwn", "text": words.explained(failure_window)}]}
    found = [*found[:room], closing]
    return blocks.message(words.fallback(app), found)


def home_blocks(figures: Sequence[Figures]) -> list[Json]:
    """One section per app: each env's figures over the last HOME_WINDOW days."""
    found: list[Json] = []
    for name, envs in _grouped(figures).items():
        rows = [words.home_line(env, f) for env, windows in envs.items()
                for f in windows if f.days == HOME_WINDOW]
        if rows:
            found.append(blocks.section(f"*{words.title(name)}* · "
                                        f"{words.home_title(HOME_WINDOW)}\n" + "\n".join(rows)))
    return found
