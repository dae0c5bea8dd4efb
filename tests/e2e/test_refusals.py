"""Refusals through the real bot against the emulated world: each answered privately with its
reason, and nothing done (no record, no pull request, no merge)."""

from __future__ import annotations

from handlers import ids
from sandbox.world import person
from slackbot.models import State
from tests.e2e.conftest import DEV, STAKEHOLDER, Live, wait_for

REVIEWER = person("reviewer").slack_id


def refused(live: Live, user: str, text: str, needle: str) -> str:
    """Run a command that must be refused; the user's ephemeral carries `needle`."""
    before_pulls = len(live.github_as("developer").get_repo("acme/myapp").get_pulls(state="all")
                       .get_page(0))
    live.command(user, text)
    answer = wait_for(lambda: next((t for t in live.ephemerals(user) if needle in t), None),
                      f"an answer containing {needle!r}")
    assert live.bot.store.live_all() == [] or all(r.requested_by != user or r.env not in text
                                                  for r in live.bot.store.live_all())
    after_pulls = len(live.github_as("developer").get_repo("acme/myapp").get_pulls(state="all")
                      .get_page(0))
    assert after_pulls == before_pulls
    return answer


def test_prod_straight_from_dev_is_refused(live: Live) -> None:
    answer = refused(live, DEV, "/promote prod from dev", "never from dev")
    assert "Promote to staging first" in answer
    assert live.bot.store.live("myapp", "prod") is None


def test_staging_while_dev_is_not_ready_is_refused(live: Live) -> None:
    sha = live.push("dev", "apps/myapp/overlays/dev/kustomization.yaml",
                    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                    "resources:\n  - ../../nowhere\n", "break dev")
    wait_for(lambda: live.flux("dev").ready == "False"
             and live.flux("dev").last_attempted_revision == f"dev@sha1:{sha}", "dev failing")
    answer = refused(live, DEV, "/promote staging", "dev is not Ready in Flux")
    assert "BuildFailed" in answer and "fix dev first" in answer


def test_staging_before_dev_applied_the_head_is_refused(live: Live) -> None:
    live.wait_deployed("dev", live.world.repo.sha)
    clock = live.world.cluster.simulator.clock
    clock.hold()  # Flux's time stands still: dev's next fetch does not come
    try:
        sha = live.push("dev", "apps/myapp/NOTES.md", "z\n", "not yet deployed")
        answer = refused(live, DEV, "/promote staging", "has not applied the head of dev")
        assert sha[:7] in answer
    finally:
        clock.release()


def test_second_request_while_one_is_live_waits_in_line_then_starts_by_itself(
        live: Live) -> None:
    sha = live.push("dev", "apps/myapp/NOTES.md", "a\n", "a")
    live.wait_deployed("dev", sha)
    live.command(DEV, "/promote staging")
    first = live.wait_state(live.live_record("staging").id, State.AWAITING_GATES)
    answer = refused(live, STAKEHOLDER, "/promote staging", "is queued")  # nothing started
    assert f"staging has a live promotion (#{first.id}" in answer and "next in line" in answer
    wait_for(lambda: "1 in queue" in live.card_text(first.id), "the queue on the live card")
    live.click(DEV, first, ids.CANCEL)
    second = wait_for(lambda: (r := live.bot.store.live("myapp", "staging")) is not None
                      and r.id != first.id and r, "the queued request started")
    assert second.requested_by == STAKEHOLDER
    live.wait_state(second.id, State.AWAITING_GATES)
    wait_for(lambda: any("Your queued request has started" in m.get("text", "")
                         for m in live.world.slack.direct_messages(STAKEHOLDER)),
             "the direct message to the requester")


def test_frozen_env_is_refused_until_unfrozen(live: Live) -> None:
    sha = live.push("dev", "apps/myapp/NOTES.md", "b\n", "b")
    live.wait_deployed("dev", sha)
    live.command(STAKEHOLDER, "/promote freeze staging release week")
    wait_for(lambda: live.bot.store.blocks("myapp", "staging"), "the freeze")
    answer = refused(live, DEV, "/promote staging", "is frozen by")
    assert "release week" in answer
    live.command(STAKEHOLDER, "/promote unfreeze staging")
    wait_for(lambda: not live.bot.store.blocks("myapp", "staging"), "the unfreeze")
    live.command(DEV, "/promote staging")
    live.live_record("staging")


def awaiting_prod(live: Live):  # type: ignore[no-untyped-def]
    sha = live.push("staging", "apps/myapp/NOTES.md", "c\n", "c")
    live.wait_deployed("staging", sha)
    live.command(DEV, "/promote prod")
    return live.wait_state(live.live_record("prod").id, State.AWAITING_GATES)


def refused_click(live: Live, user: str, record, needle: str) -> None:  # type: ignore[no-untyped-def]
    live.click(user, record, ids.APPROVE)
    wait_for(lambda: any(needle in t for t in live.ephemerals(user)), f"the refusal {needle!r}")
    assert live.record(record.id).approvers() == ()


def test_self_approval_is_refused(live: Live) -> None:
    record = awaiting_prod(live)
    refused_click(live, DEV, record, "so you cannot approve it")


def test_approval_from_outside_the_group_is_refused(live: Live) -> None:
    record = awaiting_prod(live)
    refused_click(live, REVIEWER, record,
                  f"approving #{record.id} needs the stakeholder role: ask <@{STAKEHOLDER}>")


def test_closed_window_schedules_the_merge_for_its_opening(live: Live) -> None:
    live.clock.jump(days=3)  # Saturday noon
    record = awaiting_prod(live)
    live.world.github.set_check(record.head_sha, "ci", "success")
    live.approve_pull(record.pr_number)
    live.click(STAKEHOLDER, record, ids.APPROVE)
    live.bot.core.commands.set_rollback_plan(record.id, DEV, "revert the merge commit")
    waiting = wait_for(lambda: (r := live.record(record.id)).merge_not_before and r,
                       "the merge to be scheduled")
    assert waiting.state is State.AWAITING_GATES
    assert waiting.merge_not_before.isoformat() == "2026-11-30T09:00:00+00:00"
    wait_for(lambda: "opens Mon 2026-11-30 09:00 UTC" in live.card_text(record.id),
             "the card to say when the window opens")
    assert not live.world.github.pull_request(record.pr_number)["merged"]
    live.clock.jump(days=2)  # Monday 12:00: the scheduled job merges
    merged = live.wait_state(record.id, State.RECONCILING, State.DEPLOYED)
    assert merged.merge_sha

