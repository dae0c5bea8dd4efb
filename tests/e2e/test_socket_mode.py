"""The real bot in Socket Mode (SLACK_APP_TOKEN set) against the emulated world: every command,
click and event reaches it over the websocket it opened with apps.connections.open, and the
emulator has no request URL at all, so nothing can have come over HTTP /slack/events."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from handlers import ids
from promotebot.wiring import Tuning, build
from sandbox.world import World
from slackbot.config import load_pipeline
from slackbot.models import State
from slackbot.settings import load_settings
from tests.blockkit import validate_bot_output
from tests.e2e.conftest import DEV, Live, OffsetClock, blocks_text, wait_for

APP_TOKEN = "xapp-1-A0SANDBOX-1-e2e-socket-mode"


@pytest.fixture
def socket_live(tmp_path: Path, redis_url: str) -> Iterator[Live]:
    """As the `live` fixture, with the bot in Socket Mode and no bot_request_url."""
    clock = OffsetClock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))  # a Wednesday noon
    with World(time_scale=60, pod_start_delay=3.0, workdir=tmp_path / "world") as world:
        world.slack.app_token = APP_TOKEN
        env = {**world.bot_environment, "REDIS_URL": redis_url, "PROMOTEBOT_HOST": "127.0.0.1",
               "PROMOTEBOT_PORT": "0", "PROMOTEBOT_POLL_SECONDS": "1",
               "SLACK_APP_TOKEN": APP_TOKEN}
        settings = load_settings(env)
        assert settings.slack_mode == "socket"
        tuning = Tuning(github_throttle=False, watch_timeout_seconds=10,
                        redis_prefix=f"e2esock{uuid.uuid4().hex[:8]}:")
        bot = build(settings, load_pipeline(None), clock=clock, tuning=tuning).start()
        try:
            wait_for(lambda: world.slack.socket_connections == 1, "the bot's websocket")
            yield Live(world, bot, clock, tmp_path)
        finally:
            bot.stop()
        assert world.slack.bot_request_url is None  # nothing was ever sent over HTTP
        validate_bot_output(world.slack)


def test_status_and_a_staging_promotion_to_deployed_over_socket_mode(socket_live: Live) -> None:
    live, slack = socket_live, socket_live.world.slack
    status = live.command(DEV, "/promote status")
    assert status["via"] == "socket_mode"
    assert status["ack"] is None  # an empty ack: the one answer follows through response_url
    answer = wait_for(lambda: next((m for m in slack.ephemerals(DEV)
                                    if m.get("text") == "Status of myapp per environment"), None),
                      "the status answer through response_url")
    for env in ("dev", "staging", "prod"):
        assert f"*{env}*" in blocks_text(answer["blocks"])

    sha = live.push("dev", "apps/myapp/CHANGELOG.md", "- over the socket\n", "Over the socket")
    live.wait_deployed("dev", sha)
    reply = live.command(DEV, "/promote staging")
    assert (reply["via"], reply["ack"]) == ("socket_mode", None)
    staging = live.wait_state(live.live_record("staging").id, State.AWAITING_GATES)
    assert staging.head_sha == sha
    live.world.github.set_check(sha, "ci", "success")
    live.approve_pull(staging.pr_number)
    staging = live.wait_state(staging.id, State.DEPLOYED, State.FAILED)
    assert staging.state is State.DEPLOYED, staging.failure
    assert live.deployed("staging", staging.merge_sha)
    wait_for(lambda: "deployed" in live.card_text(staging.id).lower(), "the card to say deployed")
    kinds = [envelope["type"] for envelope in slack.socket_mode.delivered]
    assert kinds == ["slash_commands", "slash_commands"]


def test_cancel_button_and_app_home_over_socket_mode(socket_live: Live) -> None:
    live, slack = socket_live, socket_live.world.slack
    sha = live.push("dev", "apps/myapp/NOTES.md", "cancel me\n", "to be cancelled")
    live.wait_deployed("dev", sha)
    live.command(DEV, "/promote staging")
    record = live.wait_state(live.live_record("staging").id, State.AWAITING_GATES)
    wait_for(lambda: _has_button(live, record.id), "the Cancel button on the card")
    clicked = live.click(DEV, record, ids.CANCEL)
    assert (clicked["status"], clicked["via"]) == (200, "socket_mode")
    cancelled = live.wait_state(record.id, State.CANCELLED)
    assert live.bot.store.live("myapp", "staging") is None
    wait_for(lambda: "cancel" in live.card_text(cancelled.id).lower(), "the card to say cancelled")

    opened = slack.open_home(DEV)
    assert (opened["status"], opened["via"]) == (200, "socket_mode")
    home = wait_for(lambda: slack.state()["home"].get(DEV), "the home view")
    assert "staging" in blocks_text(home["blocks"])
    interactive = [e for e in slack.socket_mode.delivered if e["type"] == "interactive"]
    assert interactive[0]["payload"]["actions"][0]["action_id"] == ids.CANCEL
    assert [e["type"] for e in slack.socket_mode.delivered][-1] == "events_api"


def _has_button(live: Live, promotion_id: int) -> bool:
    return any(element.get("action_id") == ids.CANCEL
               for block in live.card(promotion_id).get("blocks", []) if block["type"] == "actions"
               for element in block["elements"])
