"""The emulated world with the real bot, GitHub webhooks on: the emulator signs and delivers
pull_request, review, check and status events to the bot's /github/webhook.

The gate poll is set to an hour, so anything that moves a record within a test came from a
webhook, a Slack action or the Flux watch (which a test can stop). Logs of every logger can be
captured as the bot's JSON lines (`Observed.log_lines`).
"""

from __future__ import annotations

import io
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import redis

from promotebot.wiring import Tuning, build
from sandbox.slack.models import VERIFICATION_TOKEN
from sandbox.world import World
from slackbot import logs
from slackbot.config import load_pipeline
from slackbot.models import Promotion, State
from slackbot.settings import load_settings
from tests.e2e.conftest import DEV, Live, OffsetClock
from tests.waiting import wait_for

WEBHOOK_SECRET = "whsec-sandbox-5f2b8c1d9e7a4b3c"
POLL_SECONDS = "3600"  # the fallback poll never runs within a test


@dataclass
class Observed(Live):
    capture: io.StringIO = field(default_factory=io.StringIO)
    trigger_id: str | None = None  # Slack's id of the last /promote (the request id)

    @property
    def webhook_url(self) -> str:
        return f"{self.bot.url}/github/webhook"

    def log_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.capture.getvalue().splitlines()]

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        request = urllib.request.Request(f"{self.bot.url}{path}", data=body, headers=headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"{self.bot.url}{path}", timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def redis_snapshot(self) -> dict[str, Any]:
        """Every key of this bot (its prefix) with its type and value."""
        assert self.bot.settings.redis_url is not None
        r = redis.Redis.from_url(self.bot.settings.redis_url.reveal(), decode_responses=True)
        prefix = self.bot.tuning.redis_prefix  # the test's own prefix
        snapshot: dict[str, Any] = {}
        for key in sorted(r.scan_iter(match=f"{prefix}*")):
            kind = r.type(key)
            value: Any
            if kind == "string":
                value = r.get(key)
            elif kind == "hash":
                value = r.hgetall(key)
            elif kind == "set":
                value = sorted(r.smembers(key))
            elif kind == "zset":
                value = r.zrange(key, 0, -1, withscores=True)
            elif kind == "list":
                value = r.lrange(key, 0, -1)
            elif kind == "stream":
                value = r.xrange(key)
            else:
                value = None
            snapshot[key] = (kind, value, r.ttl(key) > 0)
        return snapshot


@contextmanager
def observed_world(workdir: Path, redis_url: str, extra_env: dict[str, str] | None = None,
                   capture_level: int = logging.DEBUG) -> Iterator[Observed]:
    """The bot between the emulators with webhooks on, and a DEBUG capture of every logger
    through the bot's own JSON handler (with the settings' secrets to redact). `extra_env`
    adds to (or replaces) the bot's settings; `capture_level` raises the capture's level."""
    clock = OffsetClock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))  # a Wednesday noon
    capture = io.StringIO()
    root = logging.getLogger()
    level = root.level
    with World(time_scale=60, pod_start_delay=2.0, workdir=workdir / "world") as world:
        env = {**world.bot_environment, "REDIS_URL": redis_url, "PROMOTEBOT_HOST": "127.0.0.1",
               "PROMOTEBOT_PORT": "0", "PROMOTEBOT_POLL_SECONDS": POLL_SECONDS,
               "GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET, **(extra_env or {})}
        settings = load_settings(env)
        handler = logs.handler(capture, logs.settings_secrets(settings), "json")
        root.addHandler(handler)
        root.setLevel(capture_level)
        try:
            tuning = Tuning(github_throttle=False, watch_timeout_seconds=2,
                            redis_prefix=f"obs{uuid.uuid4().hex[:8]}:")
            bot = build(settings, load_pipeline(None), clock=clock, tuning=tuning).start()
            world.slack.bot_request_url = bot.slack_request_url
            world.github.hooks.configure(f"{bot.url}/github/webhook", WEBHOOK_SECRET)
            try:
                # the leader's first look at dev is remembered in Redis: wait for it, so that a
                # test comparing Redis before and after a request sees only the request's doing
                wait_for(lambda: bot.store.recall("dev-deploy:applied:myapp")
                         and bot.store.recall("dev-deploy:reported:myapp"), "dev's first status")
                yield Observed(world, bot, clock, workdir, capture)
            finally:
                world.github.hooks.configure(None)
                bot.stop()
        finally:
            root.removeHandler(handler)
            root.setLevel(level)


@pytest.fixture
def observed(tmp_path: Path, redis_url: str) -> Iterator[Observed]:
    with observed_world(tmp_path, redis_url) as world:
        yield world


def promote_to_awaiting_staging(o: Observed) -> tuple[Promotion, str]:
    """A change pushed to dev and deployed there, then /promote staging: the record waits for
    its gates (the ci check and one review)."""
    sha = o.push("dev", "apps/myapp/CHANGELOG.md", "- faster checkout\n", "Faster checkout")
    o.wait_deployed("dev", sha)
    o.trigger_id = o.command(DEV, "/promote staging")["trigger_id"]
    record = o.wait_state(o.live_record("staging").id, State.AWAITING_GATES)
    assert record.head_sha == sha
    return record, sha


@dataclass
class Promoted:
    """One whole staging promotion, driven by webhooks, and what the bot showed of it."""

    observed: Observed
    record: Promotion
    metrics: str
    lines: list[dict[str, Any]]
    raw_log: str
    deliveries: list[Any]


@pytest.fixture(scope="module")
def promoted(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Promoted]:
    with observed_world(tmp_path_factory.mktemp("promoted"), redis_url) as o:
        # A slash command with a wrong signature (and Slack's legacy verification token in
        # its body): the bot answers 401 and logs a WARNING, without reading the body.
        forged = urlencode({"token": VERIFICATION_TOKEN, "team_id": "T0SANDBOX",
                            "command": "/promote", "text": "staging", "user_id": DEV,
                            "trigger_id": "forged.1.sandbox"}).encode()
        status, _ = o.post("/slack/events", forged, {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": str(int(time.time())),
            "X-Slack-Signature": "v0=" + "0" * 64})
        assert status == 401
        record, sha = promote_to_awaiting_staging(o)
        o.world.github.set_check(sha, "ci", "success")
        o.approve_pull(record.pr_number)
        done = o.wait_state(record.id, State.DEPLOYED, State.FAILED)
        assert done.state is State.DEPLOYED, done.failure
        o.world.github.hooks.wait_idle()
        wait_for(o.bot.idle, "the bot's listeners and workers to finish")
        status, body = o.get("/metrics")
        assert status == 200
        yield Promoted(o, done, body.decode(), o.log_lines(), o.capture.getvalue(),
                       o.world.github.deliveries)
