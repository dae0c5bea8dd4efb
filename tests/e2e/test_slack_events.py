"""The sandbox's Slack knows the app's commands from its manifest, and opens App Home as Slack
does (an app_home_opened event), so the bot publishes its dashboard."""

from __future__ import annotations

from tests.e2e.conftest import DEV, Live, blocks_text, wait_for


def test_a_command_the_app_does_not_declare_is_answered_by_slack(live: Live) -> None:
    reply = live.world.slack.command(DEV, "C0DEPLOYS", "/deploy staging")
    assert reply["error"] == "unknown_command" and reply["status"] is None
    [answer] = live.world.slack.ephemerals(DEV)
    assert answer["text"].startswith("/deploy is not a valid command.")


def test_opening_app_home_publishes_the_dashboard(live: Live) -> None:
    delivery = live.world.slack.open_home(DEV)
    assert delivery["status"] == 200
    home = wait_for(lambda: live.world.slack.state()["home"].get(DEV), "the home view")
    text = blocks_text(home["blocks"])
    for env in ("dev", "staging", "prod"):
        assert env in text
