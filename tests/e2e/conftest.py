"""The emulated world with the real bot between its emulators: signed Slack requests through the
real Bolt app over HTTP, PyGithub to the GitHub emulator, the kubernetes client to the cluster
and its Flux simulator, and the suite's own redis-server.

The only fake is the clock: it runs at real speed from a fixed Wednesday noon (inside the
default prod change window) and can jump forward.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from github import Auth, Github

from promotebot.wiring import Bot, Tuning, build
from sandbox.gitseed import branch_head, commit_and_push
from sandbox.world import DEPLOYS, World, person
from slackbot.config import load_pipeline
from slackbot.models import Promotion, State
from slackbot.pipeline import Pipeline
from slackbot.settings import load_settings
from tests.blockkit import validate_bot_output
from tests.waiting import wait_for

DEV, REVIEWER, STAKEHOLDER, ONCALL = (person(r).slack_id for r in
                                      ("developer", "reviewer", "stakeholder", "oncall"))


class OffsetClock:
    """Real time, shifted to start at `start`; `jump` moves it forward."""

    def __init__(self, start: datetime):
        self._offset = start - datetime.now(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def jump(self, **delta: float) -> None:
        with self._lock:
            self._offset += timedelta(**delta)




@dataclass
class Live:
    world: World
    bot: Bot
    clock: OffsetClock
    workdir: Path

    # -- people acting -----------------------------------------------------------------------

    def command(self, user: str, text: str, channel: str = DEPLOYS) -> dict[str, Any]:
        reply = self.world.slack.command(user, channel, text)
        assert reply["status"] == 200, reply
        return reply

    def click(self, user: str, promotion: Promotion, action_id: str) -> dict[str, Any]:
        """Click a button of the record's card, once the card shows it (the card follows the
        record a moment after each step is stored)."""
        channel, ts = self.card_ref(promotion.id)
        wait_for(lambda: action_id in card_actions(self.card(promotion.id)),
                 f"{action_id} on {promotion.name}'s card")
        return self.world.slack.click(user, action_id, channel=channel, ts=ts)

    def ephemerals(self, user: str) -> list[str]:
        return [m.get("text", "") for m in self.world.slack.ephemerals(user)]

    def push(self, branch: str, path: str, content: str, message: str) -> str:
        return commit_and_push(self.world.github.clone_url, branch, {path: content}, message,
                               self.workdir)

    def github_as(self, role: str) -> Github:
        return Github(auth=Auth.Token(person(role).github_token), base_url=self.world.github.url,
                      retry=None, seconds_between_requests=None, seconds_between_writes=None)

    def approve_pull(self, number: int) -> None:
        self.github_as("reviewer").get_repo("acme/myapp").get_pull(number).create_review(
            event="APPROVE")

    # -- what the world shows ----------------------------------------------------------------

    def flux(self, env: str) -> Any:
        return self.bot.cluster.kustomization(self.bot.pipeline.app("myapp").env(env).kustomization)

    def deployed(self, env: str, sha: str) -> bool:
        """`env` runs `sha`: Ready, or re-running what it applied (a reconcile request that
        arrived during the health check makes Flux reconcile the same revision once more)."""
        branch = env
        status = self.flux(env)
        return status.settled and status.last_applied_revision == f"{branch}@sha1:{sha}"

    def wait_deployed(self, env: str, sha: str) -> None:
        # a whole Flux cycle (fetch, build, apply, rollout) on a loaded machine: a wider bound
        wait_for(lambda: self.deployed(env, sha), f"{env} to run {sha[:7]}", timeout=120)

    def live_record(self, env: str) -> Promotion:
        return wait_for(lambda: self.bot.store.live("myapp", env), f"a live record in {env}")

    def record(self, promotion_id: int) -> Promotion:
        found = self.bot.store.get(promotion_id)
        assert found is not None
        return found

    def wait_state(self, promotion_id: int, *states: State, timeout: float = 30.0) -> Promotion:
        """`timeout`: longer for a wait across several steps of Flux (a whole deploy)."""
        return wait_for(lambda: (r := self.record(promotion_id)).state in states and r,
                        f"record {promotion_id} to reach {[s.value for s in states]}", timeout)

    def card_ref(self, promotion_id: int) -> tuple[str, str]:
        ref = wait_for(lambda: self.bot.card_of(promotion_id), f"#{promotion_id}'s card")
        return ref.channel, ref.ts

    def card(self, promotion_id: int) -> dict[str, Any]:
        channel, ts = self.card_ref(promotion_id)
        [message] = [m for m in self.world.slack.history(channel) if m["ts"] == ts]
        return message

    def card_text(self, promotion_id: int) -> str:
        return blocks_text(self.card(promotion_id).get("blocks", []))

    def card_versions(self, promotion_id: int) -> list[dict[str, Any]]:
        channel, ts = self.card_ref(promotion_id)
        return self.world.slack.message_versions(channel, ts)


def card_actions(message: dict[str, Any]) -> set[str]:
    return {e.get("action_id", "") for b in message.get("blocks", []) if b.get("type") == "actions"
            for e in b.get("elements", [])}


def blocks_text(blocks: list[dict[str, Any]]) -> str:
    """Every piece of text in a list of blocks, in order, one per line."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("plain_text", "mrkdwn") and "text" in node:
                out.append(str(node["text"]))
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return "\n".join(out)


@pytest.fixture
def live_pipeline() -> Pipeline:
    """The pipeline file the live bot runs with (a test module may override this fixture)."""
    return load_pipeline(None)


@contextlib.contextmanager
def live_bot(world: World, redis_url: str, pipeline: Pipeline, tmp_path: Path) -> Iterator[Live]:
    """The real bot over `world`, every env deployed at its branch's head (as in life), on a
    clock the test can jump; stopped after, and everything it sent checked as valid Block Kit.
    `world` may be any with the emulated Slack and GitHub (tests/realflux: real Flux)."""
    clock = OffsetClock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))  # a Wednesday noon
    env = {**world.bot_environment, "REDIS_URL": redis_url, "PROMOTEBOT_HOST": "127.0.0.1",
           "PROMOTEBOT_PORT": "0", "PROMOTEBOT_POLL_SECONDS": "1"}
    tuning = Tuning(github_throttle=False, watch_timeout_seconds=10,
                    redis_prefix=f"e2e{uuid.uuid4().hex[:8]}:")
    bot = build(load_settings(env), pipeline, clock=clock, tuning=tuning).start()
    world.slack.bot_request_url = bot.slack_request_url
    try:
        running = Live(world, bot, clock, tmp_path)
        for name in ("dev", "staging", "prod"):
            head = branch_head(world.repo.path, name)
            assert head is not None, f"no branch {name}"
            running.wait_deployed(name, head)
        yield running
    finally:
        bot.stop()
    validate_bot_output(world.slack)  # every block and view the bot sent is valid Block Kit


@pytest.fixture
def live(tmp_path: Path, redis_url: str, live_pipeline: Pipeline) -> Iterator[Live]:
    with World(time_scale=60, pod_start_delay=3.0, workdir=tmp_path / "world") as world, \
            live_bot(world, redis_url, live_pipeline, tmp_path) as running:
        yield running
