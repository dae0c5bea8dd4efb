"""Every rule the engine enforces, each with the sentence the user sees, and nothing written
to Redis when it refuses."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis

from handlers.messages.card import gate_detail
from handlers.messages.refusals import sentence
from handlers.messages.timeline import head_moved
from slackbot.errors import (
    AlreadyFinished,
    AlreadyLive,
    DomainError,
    EnvBlocked,
    NotAllowed,
    NothingToPromote,
    OrderViolation,
    SourceNotReady,
    StaleApproval,
    UnknownApp,
    UnknownEnv,
)
from slackbot.models import State
from slackbot.reasons import Code
from tests.core.conftest import (
    DEVELOPER,
    OUTSIDER,
    REVIEWER,
    STAKEHOLDER,
    STAKEHOLDER2,
    World,
    snapshot,
)


def refused(world: World, redis_client: redis.Redis, prefix: str, error: type[DomainError],
            call, *args, **kwargs) -> str:
    """Run a command that must be refused; return its sentence after checking Redis is intact."""
    before = snapshot(redis_client, prefix)
    with pytest.raises(error) as caught:
        call(*args, **kwargs)
    assert snapshot(redis_client, prefix) == before
    return sentence(caught.value.reason)


@pytest.fixture
def refuse(world: World, redis_client: redis.Redis, prefix: str):
    return lambda error, call, *a, **k: refused(world, redis_client, prefix, error, call, *a, **k)


def prod_ready_for_promotion(world: World) -> None:
    """staging runs something prod does not have yet."""
    sha = world.forge.push("staging")
    world.cluster.deploy("myapp-staging", "staging", sha)


def test_unknown_app_suggests_the_closest(world: World, refuse) -> None:
    text = refuse(UnknownApp, world.core.commands.request, "myap", "staging", DEVELOPER)
    assert text == "there is no app `myap`: did you mean `myapp`?"


def test_unknown_env_suggests_the_closest(world: World, refuse) -> None:
    text = refuse(UnknownEnv, world.core.commands.request, "myapp", "stagin", DEVELOPER)
    assert text == ("myapp has no environment `stagin` (it has dev, staging, prod): "
                    "did you mean `staging`?")


def test_the_only_app_is_implied(world: World) -> None:
    world.push_dev()
    promotion = world.core.commands.request(None, "staging", DEVELOPER)
    assert promotion.app == "myapp"


def test_prod_straight_from_dev_is_refused(world: World, refuse) -> None:
    text = refuse(OrderViolation, world.core.commands.request, "myapp", "prod", DEVELOPER,
                  source="dev")
    assert text == ("prod is promoted from staging, never from dev: environments go "
                    "dev -> staging -> prod. Promote to staging first")


def test_promotion_into_the_first_env_is_refused(world: World, refuse) -> None:
    text = refuse(OrderViolation, world.core.commands.request, "myapp", "dev", DEVELOPER)
    assert "dev is the first environment of myapp" in text
    assert "Push to the dev branch and Flux deploys it" in text


def test_source_not_ready_is_refused_with_flux_message(world: World, refuse) -> None:
    world.push_dev()
    world.cluster.set_status("myapp-dev", ready="False", reason="HealthCheckFailed",
                             message="timeout waiting for: [Deployment/dev/myapp]",
                             applied=world.cluster.kustomizations["myapp-dev"].last_applied_revision)
    text = refuse(SourceNotReady, world.core.commands.request, "myapp", "staging", DEVELOPER)
    assert text == ("dev is not Ready in Flux (HealthCheckFailed: timeout waiting for: "
                    "[Deployment/dev/myapp]): fix dev first, then /promote staging")


def test_source_that_has_not_applied_the_head_is_refused(world: World, refuse) -> None:
    old = world.forge.heads["dev"]
    new = world.forge.push("dev")  # pushed, but Flux still runs the old commit
    text = refuse(SourceNotReady, world.core.commands.request, "myapp", "staging", DEVELOPER)
    assert text == (f"dev has not applied the head of dev ({new[:7]}) yet; it runs "
                    f"dev@{old[:7]}: wait for Flux to deploy it to dev, "
                    "then /promote staging again")


def test_nothing_to_promote_is_refused(world: World, refuse) -> None:
    world.forge.ahead[("staging", "dev")] = 0
    text = refuse(NothingToPromote, world.core.commands.request, "myapp", "staging", DEVELOPER)
    assert text == "staging already has everything in dev: nothing to promote to staging"


def test_second_live_promotion_is_refused(world: World, refuse) -> None:
    world.push_dev()
    first = world.core.commands.request("myapp", "staging", DEVELOPER)
    text = refuse(AlreadyLive, world.core.commands.request, "myapp", "staging", REVIEWER)
    # the test's workers run a wake at once: the first record has already opened its PR
    assert text == (f"staging already has a live promotion ({first.name} by <@{DEVELOPER}>, "
                    f"awaiting gates): cancel it or wait for it to finish")


def test_frozen_env_refuses_promotions(world: World, refuse) -> None:
    world.push_dev()
    world.core.holds.freeze("myapp", "staging", STAKEHOLDER2, "release week")
    text = refuse(EnvBlocked, world.core.commands.request, "myapp", "staging", DEVELOPER)
    assert text == (f"staging is frozen by <@{STAKEHOLDER2}> since 2026-11-25 12:00 UTC (release "
                    f"week): ask them, or /promote unfreeze staging when it is over")
    assert world.core.holds.unfreeze("myapp", "staging", STAKEHOLDER2)
    assert world.core.commands.request("myapp", "staging", DEVELOPER).state is State.REQUESTED


def prod_promotion_awaiting(world: World):
    prod_ready_for_promotion(world)
    promotion = world.core.commands.request("myapp", "prod", DEVELOPER)
    promotion = world.core.steps.advance(promotion.id)
    assert promotion.state is State.AWAITING_GATES
    return promotion


def test_self_approval_is_refused(world: World, refuse) -> None:
    promotion = prod_promotion_awaiting(world)
    text = refuse(NotAllowed, world.core.commands.approve, promotion.id, DEVELOPER)
    assert text == (f"you asked for {promotion.name}, so you cannot approve it: ask another "
                    f"member of the stakeholder group")


def test_approval_from_outside_the_group_is_refused(world: World, refuse) -> None:
    promotion = prod_promotion_awaiting(world)
    text = refuse(NotAllowed, world.core.commands.approve, promotion.id, OUTSIDER)
    # the requester (a stakeholder too) is not among the people to ask
    assert text == (f"approving {promotion.name} needs the stakeholder role: ask "
                    f"<@{STAKEHOLDER}> or <@{STAKEHOLDER2}>")


def test_stale_approval_is_refused(world: World, refuse) -> None:
    promotion = prod_promotion_awaiting(world)
    old_head = promotion.head_sha
    world.forge.push("staging")
    moved = world.core.steps.advance(promotion.id)
    assert moved.head_sha != old_head
    text = refuse(StaleApproval, world.core.commands.approve, promotion.id, STAKEHOLDER, old_head)
    assert text == (f"you approved {old_head[:7]}, but the pull request head is now "
                    f"{moved.short_sha}: review the new commits, then approve again")


def test_new_head_voids_approvals_given(world: World) -> None:
    promotion = prod_promotion_awaiting(world)
    approved = world.core.commands.approve(promotion.id, STAKEHOLDER, promotion.head_sha)
    assert approved.approvers() == (STAKEHOLDER,)
    world.forge.push("staging")
    moved = world.core.steps.advance(promotion.id)
    assert moved.approvers() == ()
    assert moved.voided == (STAKEHOLDER,)
    moved_events = [e for e in world.store.events(promotion.id) if e.kind == "head_moved"]
    assert len(moved_events) == 1
    assert "approvals given for the old head no longer count" in head_moved(moved_events[0].facts)
    assert gate_detail(moved.gate("stakeholders")) == "0 of 1 stakeholder approval"


def test_buttons_of_a_finished_promotion_say_it_is_finished(world: World, refuse) -> None:
    promotion = prod_promotion_awaiting(world)
    world.core.commands.cancel(promotion.id, DEVELOPER)
    text = refuse(AlreadyFinished, world.core.commands.approve, promotion.id, STAKEHOLDER)
    assert text == f"{promotion.name} is already cancelled: there is nothing to approve"


def test_cancel_by_a_stranger_is_refused(world: World, refuse) -> None:
    promotion = prod_promotion_awaiting(world)
    text = refuse(NotAllowed, world.core.commands.cancel, promotion.id, OUTSIDER)
    assert text == (f"cancelling {promotion.name} needs its requester, or the stakeholder or "
                    f"on-call role: ask <@{DEVELOPER}>, <@{STAKEHOLDER}>, <@{STAKEHOLDER2}> or "
                    f"<@U0ONCALL>")


def test_reject_needs_a_reason(world: World, refuse) -> None:
    promotion = prod_promotion_awaiting(world)
    world.directory.names[STAKEHOLDER] = "Sam Stake"  # GitHub gets a name, never a Slack id
    text = refuse(NotAllowed, world.core.commands.reject, promotion.id, STAKEHOLDER, "  ")
    assert text == "a rejection needs a reason: say what must change"
    rejected = world.core.commands.reject(promotion.id, STAKEHOLDER, "not during the sale")
    assert rejected.state is State.REJECTED
    assert rejected.rejection is not None and rejected.rejection.reason == "not during the sale"
    assert world.forge.comments[-1] == (promotion.pr_number,
                                        "Rejected by Sam Stake: not during the sale")


def test_outside_the_change_window_the_merge_waits_for_it(world: World) -> None:
    world.clock.moment = world.clock.moment.replace(day=28, hour=10)  # a Saturday
    promotion = prod_promotion_awaiting(world)
    world.forge.set_check(promotion.head_sha, "ci", "success")
    world.forge.review(promotion.pr_number, "U0REVIEW")
    world.core.commands.set_rollback_plan(promotion.id, DEVELOPER, "revert the merge commit")
    world.core.commands.approve(promotion.id, STAKEHOLDER, promotion.head_sha)
    waiting = world.store.get(promotion.id)
    assert waiting.state is State.AWAITING_GATES
    assert waiting.merge_not_before is not None
    assert waiting.merge_not_before.isoformat() == "2026-11-30T09:00:00+00:00"
    assert gate_detail(waiting.gate("window")) == (
        "change window closed; opens Mon 2026-11-30 09:00 UTC")
    assert "merge" not in " ".join(world.forge.calls)
    world.clock.moment = waiting.merge_not_before
    merged = world.core.steps.advance(promotion.id)
    assert merged.state is State.RECONCILING


def test_status_shows_each_env_with_live_record_waiting_commits_and_freeze(world: World) -> None:
    world.push_dev()
    live = world.core.commands.request("myapp", "staging", DEVELOPER)
    world.core.holds.freeze("myapp", "prod", STAKEHOLDER2, "release week")
    status = world.core.status.read(None)
    dev, staging, prod = status.envs
    assert (dev.env, dev.ready, dev.runs_head, dev.waiting) == ("dev", "True", True, ())
    assert staging.live is not None and staging.live.id == live.id
    assert len(staging.waiting) == 1 and staging.waiting[0].sha == world.forge.heads["dev"]
    assert [b.reason for b in prod.blocks] == ["release week"]
    assert (prod.pods_ready, prod.pods_desired) == (1, 1)


def test_a_periodic_reconcile_of_the_applied_revision_does_not_refuse(world: World) -> None:
    """Flux sets Ready=Unknown (Progressing) at the start of every reconcile: a source that is
    only re-reconciling what it applied is healthy; one applying something new is not."""
    sha = world.push_dev()
    applied = f"dev@sha1:{sha}"
    world.cluster.set_status("myapp-dev", ready="Unknown", reason="Progressing",
                             message="Reconciliation in progress", applied=applied)
    assert world.core.commands.request("myapp", "staging", DEVELOPER).head_sha == sha


def test_a_source_applying_the_very_head_is_waited_for_within_a_bound(world: World) -> None:
    """Right after a merge into the source, Flux is applying exactly the head being promoted:
    the promotion is recorded and its source gate waits (up to the source's timeout and one
    interval), instead of a refusal a second before the source is Ready."""
    old = world.forge.heads["dev"]
    sha = world.forge.push("dev")
    world.cluster.set_status("myapp-dev", ready="Unknown", reason="Progressing",
                             message="Reconciliation in progress", applied=f"dev@sha1:{old}",
                             attempted=f"dev@sha1:{sha}")
    record = world.requested("staging")
    assert record.head_sha == sha and record.state is State.AWAITING_GATES
    assert record.source_until == world.clock.now() + timedelta(minutes=3 + 1)
    [source] = [g for g in record.gates if g.name == "source"]
    assert not source.passed and source.until == record.source_until
    world.cluster.deploy("myapp-dev", "dev", sha)  # Flux finished: the gate passes, unbounded
    record = world.core.steps.advance(record.id)
    assert record.gate("source").passed and record.source_until is None


def test_a_source_that_never_gets_there_fails_the_wait_with_its_reason(world: World) -> None:
    old = world.forge.heads["dev"]
    sha = world.forge.push("dev")
    world.cluster.set_status("myapp-dev", ready="Unknown", reason="Progressing",
                             message="Reconciliation in progress", applied=f"dev@sha1:{old}",
                             attempted=f"dev@sha1:{sha}")
    record = world.requested("staging")
    world.clock.advance(minutes=5)
    failed = world.core.steps.advance(record.id)
    assert failed.state is State.FAILED and failed.failure.code is Code.SOURCE_WAIT_OVER
    assert sentence(failed.failure).startswith(
        f"dev did not become Ready at {sha[:7]} while it was waited for; Flux says Progressing")


def test_a_source_in_the_middle_of_applying_something_else_is_refused(world: World,
                                                                     refuse) -> None:  # type: ignore[no-untyped-def]
    old = world.forge.heads["dev"]
    middle = world.forge.push("dev")
    world.forge.push("dev")
    world.cluster.set_status("myapp-dev", ready="Unknown", reason="Progressing",
                             message="Reconciliation in progress", applied=f"dev@sha1:{old}",
                             attempted=f"dev@sha1:{middle}")
    text = refuse(SourceNotReady, world.core.commands.request, "myapp", "staging", DEVELOPER)
    assert text.startswith("dev is not Ready in Flux (Progressing: Reconciliation in progress)")
