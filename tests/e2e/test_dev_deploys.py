"""Dev deploys reported, against the emulated world: a push to dev that Flux applies is one
message in the deploys channel with its commit; a second push the same day is a reply in that
message's thread, not a second message."""

from __future__ import annotations

from typing import Any

from sandbox.world import DEPLOYS
from tests.e2e.conftest import Live, blocks_text, wait_for

TITLE = "pushes Flux applied"


def _day_messages(live: Live) -> list[dict[str, Any]]:
    return [m for m in live.world.slack.history(DEPLOYS)
            if TITLE in blocks_text(m.get("blocks", []))]


def _thread_text(live: Live, parent: dict[str, Any]) -> str:
    return "\n".join(blocks_text(m.get("blocks", []))
                     for m in live.world.slack.replies(DEPLOYS, parent["ts"])[1:])


def test_pushes_to_dev_are_one_message_a_day_with_each_push_in_its_thread(live: Live) -> None:
    # the bot remembers what dev ran when it started watching (reported: nothing before it)
    wait_for(lambda: live.bot.store.recall("dev-deploy:reported:myapp"), "dev's first status")
    first = live.push("dev", "apps/myapp/NOTES.md", "one\n", "PAY-41 note the refunds")
    live.wait_deployed("dev", first)
    [parent] = wait_for(lambda: (found := _day_messages(live)) and found, "the day's message")
    wait_for(lambda: f"`{first[:7]}` is applied on dev: Ready." in _thread_text(live, parent),
             "the first push in the thread")
    assert "PAY-41 note the refunds" in _thread_text(live, parent)

    second = live.push("dev", "apps/myapp/NOTES.md", "two\n", "note the chargebacks")
    live.wait_deployed("dev", second)
    wait_for(lambda: f"`{second[:7]}` is applied on dev: Ready." in _thread_text(live, parent),
             "the second push in the same thread")
    thread = _thread_text(live, parent)
    assert "note the chargebacks" in thread
    assert thread.count("is applied on dev") == 2  # each push once
    assert len(_day_messages(live)) == 1  # no second message in the channel
    wait_for(lambda: "2 deploys today" in blocks_text(_day_messages(live)[0]["blocks"]),
             "the day's message counting both")
