"""A crash mid-promotion: the bot process goes away while a promotion waits for its gates; a new
process on the same Redis picks it up where it was and finishes it, with the same card."""

from __future__ import annotations

from promotebot.wiring import Tuning, build
from slackbot.config import load_pipeline
from slackbot.models import State
from tests.e2e.conftest import DEV, Live


def test_a_new_process_resumes_a_waiting_promotion_and_finishes_it(live: Live,
                                                                   redis_url: str) -> None:
    sha = live.push("dev", "apps/myapp/NOTES.md", "r\n", "before the restart")
    live.wait_deployed("dev", sha)
    live.command(DEV, "/promote staging")
    record = live.wait_state(live.live_record("staging").id, State.AWAITING_GATES)
    card = live.card_ref(record.id)
    old = live.bot
    old.stop()  # the process dies; Redis keeps everything

    live.world.github.set_check(sha, "ci", "success")  # the gates turn green meanwhile
    live.approve_pull(record.pr_number)

    tuning = Tuning(github_throttle=False, watch_timeout_seconds=10,
                    redis_prefix=old.tuning.redis_prefix)
    new = build(old.settings, load_pipeline(None), clock=live.clock, tuning=tuning).start()
    live.bot = new
    live.world.slack.bot_request_url = new.slack_request_url
    try:
        done = live.wait_state(record.id, State.DEPLOYED, State.FAILED)
        assert done.state is State.DEPLOYED, done.failure
        assert live.deployed("staging", done.merge_sha)
        assert live.card_ref(record.id) == card  # the same message, updated in place
        merges = [e for e in new.store.events(record.id) if e.kind == "merged"]
        assert len(merges) == 1
    finally:
        new.stop()
        live.bot = old  # the fixture stops it again: stopping twice is harmless
