"""GitHub as it really is, through the real bot, PyGithub and git against the strict emulator:
the requester's own review does not count, a secondary rate limit holds the card with the time
it ends, the "Base branch was modified" race is retried, and a merge whose answer was lost is
recorded as the merge it was."""

from __future__ import annotations

import dataclasses
import urllib.request

import pytest

from sandbox.github.models import Actors
from sandbox.slack.models import SlackUser
from sandbox.world import person
from slackbot.config import load_pipeline
from slackbot.models import Kind, State
from slackbot.pipeline import Pipeline
from tests.e2e.conftest import DEV, Live, blocks_text, wait_for
from tests.e2e.test_failures import promote_staging, said
from tests.e2e.test_incidents import newest

WAITING = "nothing is sent to GitHub until then"  # the card's line while the wait lasts
ERRORS = "GitHub is answering 502 since"  # the card's line while GitHub answers 502


@pytest.fixture
def live_pipeline() -> Pipeline:
    """The default pipeline, mapping the developer's Slack user to their GitHub login."""
    developer = person("developer")
    return dataclasses.replace(load_pipeline(None),
                               github_logins={developer.slack_id: developer.github_login})


def _push(live: Live, name: str) -> str:
    return live.push("dev", f"apps/myapp/{name}.md", f"{name}\n", name)


def test_the_requesters_own_github_review_does_not_count(live: Live) -> None:
    record = promote_staging(live, _push(live, "own-review"))
    live.github_as("developer").get_repo("acme/myapp").get_pull(record.pr_number).create_review(
        event="APPROVE")
    live.world.github.set_check(record.head_sha, "ci", "success")
    waiting = wait_for(lambda: (r := live.record(record.id)).gate("check:ci") is not None
                       and r.gate("check:ci").passed and r, "the ci gate to pass")
    reviews = waiting.gate("reviews")
    assert reviews is not None and not reviews.passed and reviews.have == 0
    assert live.record(record.id).state is State.AWAITING_GATES
    assert not live.world.github.pull_request(record.pr_number)["merged"]
    live.approve_pull(record.pr_number)  # riley, a writer who is not the requester
    done = live.wait_state(record.id, State.DEPLOYED, State.FAILED)
    assert done.state is State.DEPLOYED, said(done)
    assert done.gate("reviews") is not None and done.gate("reviews").who == ("riley",)


def test_a_secondary_rate_limit_is_shown_on_the_card_until_it_ends(live: Live) -> None:
    record = promote_staging(live, _push(live, "rate-limit"))
    live.world.github.faults.secondary_rate_limit(3600, retry_after=600)
    text = wait_for(lambda: (t := live.card_text(record.id)) and WAITING in t and t,
                    "the card to show the rate-limit wait")
    assert "Waiting for GitHub's secondary rate limit until" in text
    assert live.record(record.id).state is State.AWAITING_GATES
    live.world.github.faults.clear()
    live.world.github.set_check(record.head_sha, "ci", "success")
    live.approve_pull(record.pr_number)
    live.clock.jump(seconds=601)  # past GitHub's Retry-After on the bot's clock
    done = live.wait_state(record.id, State.DEPLOYED, State.FAILED)
    assert done.state is State.DEPLOYED, said(done)
    wait_for(lambda: WAITING not in live.card_text(record.id), "the card to drop the wait")


def test_the_base_branch_race_is_retried_and_the_merge_happens(live: Live) -> None:
    record = promote_staging(live, _push(live, "race"))
    live.world.github.recording = True
    live.world.github.faults.merge_race(2)
    live.world.github.set_check(record.head_sha, "ci", "success")
    live.approve_pull(record.pr_number)
    done = live.wait_state(record.id, State.DEPLOYED, State.FAILED)
    assert done.state is State.DEPLOYED, said(done)
    pull = live.world.github.pull_request(record.pr_number)
    assert pull["merged"] and pull["merge_commit_sha"] == done.merge_sha
    merges = [e for e in live.world.github.exchanges
              if e.method == "PUT" and e.path.endswith(f"/pulls/{record.pr_number}/merge")]
    assert [e.status for e in merges] == [405, 405, 200]


@pytest.mark.parametrize("how", ["drop", "502"])
def test_a_merge_whose_answer_was_lost_is_recorded_as_merged(live: Live, how: str) -> None:
    record = promote_staging(live, _push(live, f"lost-{how}"))
    live.world.github.faults.lose_response(how=how)
    live.world.github.set_check(record.head_sha, "ci", "success")
    live.approve_pull(record.pr_number)
    done = live.wait_state(record.id, State.DEPLOYED, State.FAILED)
    assert done.state is State.DEPLOYED, said(done)
    pull = live.world.github.pull_request(record.pr_number)
    assert pull["merged"] and pull["merge_commit_sha"] == done.merge_sha
    live.wait_deployed("staging", done.merge_sha)  # Flux may be re-running it a moment


def test_a_github_outage_is_retried_and_shown_on_the_card_while_it_lasts(live: Live) -> None:
    record = promote_staging(live, _push(live, "outage"))
    live.world.github.faults.outage(3600, status=502)
    wait_for(lambda: (t := live.card_text(record.id)) and ERRORS in t and t,
             "the card to show GitHub's errors")
    assert live.record(record.id).state is State.AWAITING_GATES
    live.world.github.faults.clear()
    live.world.github.set_check(record.head_sha, "ci", "success")
    live.approve_pull(record.pr_number)
    done = live.wait_state(record.id, State.DEPLOYED, State.FAILED)
    assert done.state is State.DEPLOYED, said(done)
    wait_for(lambda: ERRORS not in live.card_text(record.id), "the card to drop the errors")


def test_metrics_show_githubs_remaining_budget(live: Live) -> None:
    assert live.bot.forge.branch_head("acme/myapp", "dev")
    with urllib.request.urlopen(f"{live.bot.url}/metrics", timeout=5) as response:
        body = response.read().decode()
    [line] = [x for x in body.splitlines()
              if x.startswith("promotebot_github_rate_limit_remaining ")]
    remaining = float(line.split()[1])
    assert 0 <= remaining < 5000  # as GitHub's last answer said (-1 until one)
    limit = next(x for x in body.splitlines() if x.startswith("promotebot_github_rate_limit "))
    assert float(limit.split()[1]) == 5000


def test_ten_app_home_viewers_share_one_read_of_github(live: Live) -> None:
    world = live.world
    world.cluster.simulator.clock.hold()  # Flux stands still: nothing changes meanwhile
    try:
        world.slack.open_home(person("developer").slack_id)
        wait_for(lambda: world.slack.state()["home"].get(person("developer").slack_id),
                 "the first home view")
        wait_for(live.bot.idle, "the bot to be idle")
        reads = live.bot.core.status.reads
        world.github.recording = True
        viewers = [f"U0VIEW{i}" for i in range(10)]
        with world.slack.workspace.lock:
            for user in viewers:
                world.slack.workspace.users[user] = SlackUser(user, user.lower(), user)
        for user in viewers:
            world.slack.open_home(user)
        homes = wait_for(lambda: (h := world.slack.state()["home"]) and all(u in h for u in viewers)
                         and h, "ten home views")
        assert all("staging" in blocks_text(homes[u]["blocks"]) for u in viewers)
        # at most one more read of the outside world (one more only if a minute went by)
        assert live.bot.core.status.reads - reads <= 1
        status_reads = [e for e in world.github.exchanges if e.method == "GET"
                        and "/branches/" in e.path]
        assert len(status_reads) <= 3  # one per env's branch at most, not one per viewer
    finally:
        world.cluster.simulator.clock.release()


def test_a_merge_refused_by_branch_protection_names_the_rule(live: Live) -> None:
    live.world.github.protect_branch("staging", required_approving_review_count=2)
    record = promote_staging(live, _push(live, "protected"))
    live.world.github.set_check(record.head_sha, "ci", "success")
    live.approve_pull(record.pr_number)  # the pipeline's one review; GitHub wants two
    failed = live.wait_state(record.id, State.FAILED, State.DEPLOYED)
    assert failed.state is State.FAILED
    assert said(failed).startswith(
        f"staging's branch protection refused the merge of #{record.pr_number}, saying: "
        "\"At least 2 approving reviews are required"), said(failed)
    assert "docs/deploy.md" in said(failed)
    assert not live.world.github.pull_request(record.pr_number)["merged"]


def test_a_revert_push_refused_by_branch_protection_names_it(live: Live) -> None:
    good = live.push("dev", "apps/myapp/NOTES.md", "good\n", "A good change")
    bad = live.push("dev", "apps/myapp/NOTES.md", "bad\n", "A bad change")
    live.wait_deployed("dev", bad)
    live.world.github.protect_branch("dev", restrictions=Actors(users=("dana",)))
    live.command(DEV, f"/rollback dev to {good[:7]} the bad change broke checkout")
    rollback = newest(live, "dev", Kind.ROLLBACK)
    failed = live.wait_state(rollback.id, State.FAILED, State.DEPLOYED)
    assert failed.state is State.FAILED
    assert said(failed).startswith("dev's branch protection refused the push, saying: "), \
        said(failed)
    assert "bypass for its GitHub App or user" in said(failed)
    assert live.world.github.state.repo.branch_sha("dev") == bad  # nothing pushed


def test_a_merge_while_github_computes_mergeability_waits_and_merges(live: Live) -> None:
    record = promote_staging(live, _push(live, "computing"))
    live.world.github.recording = True
    # 405 "not mergeable", then null for longer than the bot's few quick re-reads
    live.world.github.state.mergeability_tracker.delay = 20.0
    live.world.github.faults.merge_while_computing()
    green_light(live, record)
    done = live.wait_state(record.id, State.DEPLOYED, State.FAILED)
    assert done.state is State.DEPLOYED, said(done)  # not "resolve the conflict"
    exchanges = live.world.github.exchanges
    merges = [i for i, e in enumerate(exchanges)
              if e.method == "PUT" and e.path.endswith(f"/pulls/{record.pr_number}/merge")]
    assert [exchanges[i].status for i in merges] == [405, 200]
    between = exchanges[merges[0]:merges[1]]
    assert any(e.method == "GET" and e.path.endswith(f"/pulls/{record.pr_number}")
               for e in between), "the bot re-read mergeable before trying again"


def test_a_review_from_a_user_without_write_access_does_not_count(live: Live) -> None:
    live.world.github.set_permission("sam", "read")
    record = promote_staging(live, _push(live, "reader"))
    live.github_as("stakeholder").get_repo("acme/myapp").get_pull(
        record.pr_number).create_review(event="APPROVE")
    live.world.github.set_check(record.head_sha, "ci", "success")
    waiting = wait_for(lambda: (r := live.record(record.id)).gate("check:ci") is not None
                       and r.gate("check:ci").passed and r, "the ci gate to pass")
    reviews = waiting.gate("reviews")
    assert reviews is not None and not reviews.passed and reviews.have == 0
    assert not live.world.github.pull_request(record.pr_number)["merged"]
    live.approve_pull(record.pr_number)  # riley writes
    done = live.wait_state(record.id, State.DEPLOYED, State.FAILED)
    assert done.state is State.DEPLOYED, said(done)
    assert done.gate("reviews") is not None and done.gate("reviews").who == ("riley",)


def test_a_review_dismissed_by_a_new_head_does_not_count(live: Live) -> None:
    live.world.github.protect_branch("staging", required_approving_review_count=1,
                                     dismiss_stale_reviews=True)
    record = promote_staging(live, _push(live, "first-head"))
    live.approve_pull(record.pr_number)  # riley approves the first head; ci is still pending
    wait_for(lambda: (g := live.record(record.id).gate("reviews")) is not None and g.passed,
             "the review gate at the first head")
    moved = _push(live, "second-head")  # a new head lands before the merge
    moved_record = wait_for(lambda: (r := live.record(record.id)).head_sha == moved and r,
                            "the record to follow the new head", timeout=60)
    assert moved_record.state is not State.DEPLOYED
    reviews = [r for r in live.world.github.state.pulls[record.pr_number].reviews
               if r.user == "riley"]
    assert [r.state for r in reviews] == ["DISMISSED"]
    live.world.github.set_check(moved, "ci", "success")
    waiting = wait_for(lambda: (r := live.record(record.id)).gate("check:ci") is not None
                       and r.gate("check:ci").passed and r.head_sha == moved and r,
                       "the ci gate at the new head")
    assert not waiting.gate("reviews").passed, "a dismissed review counted"
    assert not live.world.github.pull_request(record.pr_number)["merged"]
    live.approve_pull(record.pr_number)
    done = live.wait_state(record.id, State.DEPLOYED, State.FAILED)
    assert done.state is State.DEPLOYED, said(done)
    assert done.merge_sha and live.deployed("staging", done.merge_sha)


def green_light(live: Live, record) -> None:  # type: ignore[no-untyped-def]
    live.world.github.set_check(record.head_sha, "ci", "success")
    live.approve_pull(record.pr_number)
