"""The real bot wired to the sandbox's emulators: the sandbox's own settings and pipeline over
the composition root's `build`.

The emulators stand in for Slack, GitHub and the cluster; everything else is production's:
the same adapters, clients, HTTP and code paths. Used by the sandbox command, the tour, the
browser test and the benchmarks.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from importlib import resources

from promotebot.wiring import Bot, Tuning, build
from sandbox.world import WEBHOOK_SECRET, World, two_cluster_pipeline
from slackbot.config import parse_pipeline
from slackbot.pipeline import Pipeline
from slackbot.ports import Clock
from slackbot.settings import load_settings

SANDBOX_PIPELINE = "pipeline.yaml"  # in this package: prod's window always open
SANDBOX_WEBHOOK_SECRET = WEBHOOK_SECRET  # the sandbox's own


def sandbox_pipeline(world: World | None = None) -> Pipeline:
    """The sandbox's pipeline; with a world whose prod has a cluster of its own, prod there."""
    text = resources.files("sandbox").joinpath(SANDBOX_PIPELINE).read_text()
    if world is not None and world.prod_cluster is not None:
        text = two_cluster_pipeline(text, world.prod_cluster.url)
    return parse_pipeline(text, "sandbox/pipeline.yaml")


class ShiftedClock:
    """The bot's clock in the tour: real time, moved forward by `jump` (so that a reminder due
    in two hours comes now). Flux keeps its own simulated clock."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def jump(self, delta: timedelta) -> None:
        with self._lock:
            self._offset += delta


def start_bot_for(world: World, *, poll_seconds: float = 2.0, redis_url: str | None = None,
                  pipeline: Pipeline | None = None, clock: Clock | None = None) -> Bot:
    """The real bot against the world's emulators: the embedded Redis unless `redis_url`,
    fast GitHub pacing, and the sandbox's pipeline (unless `pipeline`); `clock`: the bot's
    (default: the real one)."""
    env = {**world.bot_environment, "PROMOTEBOT_HOST": "127.0.0.1", "PROMOTEBOT_PORT": "0",
           "PROMOTEBOT_POLL_SECONDS": str(poll_seconds),
           "GITHUB_WEBHOOK_SECRET": SANDBOX_WEBHOOK_SECRET}
    if redis_url:
        env["REDIS_URL"] = redis_url
    tuning = Tuning(github_throttle=False, watch_timeout_seconds=30, due_seconds=1.0)
    bot = build(load_settings(env), pipeline or sandbox_pipeline(world), tuning=tuning,
                clock=clock).start()
    # GitHub tells the bot at once about reviews, checks and pushes, as a real install does.
    world.github.hooks.configure(f"{bot.url}/github/webhook", SANDBOX_WEBHOOK_SECRET)
    world.slack.bot_request_url = bot.slack_request_url
    return bot
