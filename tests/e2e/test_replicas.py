"""Two bot processes on one Redis: exactly one leads (runs the shared watch and the poll);
both answer Slack; when the leader goes, the other takes over and finishes the work."""

from __future__ import annotations

from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING

from promotebot.wiring import Tuning, build
from slackbot.config import load_pipeline
from slackbot.models import State
from tests.e2e.conftest import DEV, Live
from tests.waiting import wait_for


def test_one_replica_leads_and_the_other_takes_over(live: Live) -> None:
    first = live.bot
    tuning = Tuning(github_throttle=False, watch_timeout_seconds=5, lease_seconds=1.0,
                    redis_prefix=first.tuning.redis_prefix)
    second = build(first.settings, load_pipeline(None), clock=live.clock, tuning=tuning).start()
    try:
        assert first.leading and not second.leading
        assert first.scheduler.state == STATE_RUNNING and second.scheduler.state == STATE_PAUSED
        assert first.watch.started and not second.watch.started

        # the follower answers Slack too: the same store, the same records
        live.world.slack.bot_request_url = second.slack_request_url
        sha = live.push("dev", "apps/myapp/NOTES.md", "replicas\n", "two replicas")
        live.wait_deployed("dev", sha)
        live.command(DEV, "/promote staging")
        record = live.wait_state(live.live_record("staging").id, State.AWAITING_GATES)

        first.stop()  # the leader goes away (a rolling update, a crash)
        wait_for(lambda: second.leading, "the other replica to take the lease", timeout=10)
        assert second.scheduler.state == STATE_RUNNING and second.watch.started
        live.world.github.set_check(sha, "ci", "success")
        live.approve_pull(record.pr_number)
        done = live.wait_state(record.id, State.DEPLOYED, State.FAILED)
        assert done.state is State.DEPLOYED, done.failure
    finally:
        second.stop()
