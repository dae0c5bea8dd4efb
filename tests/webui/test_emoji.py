"""Every emoji shortcode the bot writes has its picture in the web UI's table (app.js), so the
sandbox shows it as Slack does; the bot's words are read from handlers/ and slackbot/."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A shortcode in a message: `:rotating_light:`, not a key's `block:freeze:` or a time's `:00:`.
SHORTCODE = re.compile(r"(?<![\w}]):([a-z][a-z0-9_]*|\+1):(?!\w)")


def table() -> set[str]:
    source = (ROOT / "sandbox/webui/static/app.js").read_text()
    body = source.split("const EMOJI = {", 1)[1].split("};", 1)[0]
    return set(re.findall(r'(?:^|[\s,{])"?([a-z0-9_+-]+)"?:\s*"', body, re.M))


def used() -> set[str]:
    found: set[str] = set()
    for folder in ("handlers", "slackbot"):
        for path in (ROOT / folder).rglob("*.py"):
            found.update(SHORTCODE.findall(path.read_text()))
    return found


def test_every_shortcode_the_bot_writes_has_its_emoji() -> None:
    known, written = table(), used()
    assert {"rotating_light", "adhesive_bandage", "white_check_mark", "+1"} <= written
    assert written - known == set()
