"""The words of what each env runs: its revision and sha cut to 7 (shown once), its image, and
App Home's picture of the pipeline (each env's version, state and what waits to come in).

Pure: the status the core read (slackbot/status.py) in, mrkdwn out; Flux's words and image
names are escaped.
"""

from __future__ import annotations

import re

from handlers import mrkdwn
from handlers.messages.words import short_rev
from slackbot.models import BlockKind, Kind
from slackbot.plurals import counted
from slackbot.status import AppStatus, EnvStatus

FULL_SHA = re.compile(r"\b([0-9a-f]{7})[0-9a-f]{33}\b")


def flux_words(message: str) -> str:
    """Flux's message with each 40-character sha cut to 7, escaped."""
    return mrkdwn.escape(FULL_SHA.sub(r"\1", message.replace("@sha1:", "@")))


def runs_text(env: EnvStatus) -> str:
    """What the env runs, its sha cut to 7, and the branch head only when it differs."""
    if not env.applied_revision:
        return "nothing yet"
    runs = f"`{mrkdwn.clip(short_rev(env.applied_revision), 80)}`"
    if env.runs_head:
        return f"{runs} (the branch head)"
    head = f"`{env.branch}@{mrkdwn.short(env.head_sha)}`" if env.head_sha else "unknown"
    return f"{runs}; the branch head is {head}"


def image_text(env: EnvStatus) -> str:
    return ", ".join(f"`{mrkdwn.clip(mrkdwn.escape(i), 120)}`" for i in env.images) or "unknown"


def image_tag(image: str) -> str:
    """`ghcr.io/acme/myapp:1.4.2` -> `1.4.2`; a digest -> `myapp@1a2b3c4`; untagged: latest."""
    name = image.rsplit("/", 1)[-1]
    if "@" in name:
        base, _, digest = name.partition("@")
        return f"{base.split(':')[0]}@{digest.rpartition(':')[2][:7]}"
    return name.partition(":")[2] or "latest"


def pipeline_picture(status: AppStatus) -> str:
    """App Home's first look: the app's envs in promotion order, each with what it runs, how
    it stands and what waits to be promoted into it."""
    route = " → ".join(e.env for e in status.envs)
    lines = [f"*{mrkdwn.escape(status.app)}*  {route}"]
    lines += [pipeline_step(env, first=i == 0) for i, env in enumerate(status.envs)]
    return "\n".join(lines)


def pipeline_step(env: EnvStatus, first: bool = False) -> str:
    """"*staging* · `1.4.2` `abc1234` · :large_green_circle: Ready · :ice_cube: frozen ·
    2 commits waiting"."""
    parts = [f"*{env.env}*", version_text(env), *state_words(env)]
    if not first:
        parts.append(f"{counted(len(env.waiting), 'commit')} waiting" if env.promotable
                     else "nothing waiting")
    return " · ".join(parts)


def version_text(env: EnvStatus) -> str:
    sha = (env.applied_revision or "").partition("@sha1:")[2][:7]
    tags = [image_tag(i) for i in env.images[:2]]
    shown = " ".join([*(f"`{mrkdwn.clip(mrkdwn.escape(t), 40)}`" for t in tags),
                      *([f"`{sha}`"] if sha else [])])
    return shown or "nothing deployed yet"


def state_words(env: EnvStatus) -> list[str]:
    """Ready or failing first, then promoting, frozen, on hold, as they apply."""
    words = [{"True": ":large_green_circle: Ready", "False": ":red_circle: failing"}.get(
        env.ready, ":white_circle: unknown")]
    if env.suspended:
        words.append(":double_vertical_bar: suspended")
    if env.live is not None:
        doing = "rolling back" if env.live.kind is Kind.ROLLBACK else "promoting"
        words.append(f":arrows_counterclockwise: {doing} ({env.live.name})")
    in_force = env.now is not None and any(f.active(env.now) for f in env.calendar)
    if in_force or any(b.kind is BlockKind.FREEZE for b in env.blocks):
        words.append(":ice_cube: frozen")
    if any(b.kind is BlockKind.HOLD for b in env.blocks):
        words.append(":lock: on hold")
    return words
