"""Reminders, escalation and expiry of a record waiting for its gates, per env from the
pipeline file: each on time (the test steps the clock), each exactly once across replicas and
restarts, and the reminder asks only the approvers whose answer would help."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
import yaml

from handlers.messages.refusals import sentence
from handlers.messages.timeline import thread_detail
from slackbot.config import default_pipeline_text, parse_pipeline
from slackbot.events import Escalated, Expired, Reminded
from slackbot.models import Promotion, State
from slackbot.pipeline import Pipeline
from tests.core.conftest import (
    DEVELOPER,
    REVIEWER,
    STAKEHOLDER,
    STAKEHOLDER2,
    World,
    build_core,
    new_world,
)

WAITING = {"remindAfter": "2h", "escalateAfter": "6h", "escalateTo": "S0ONCALL",
           "expireAfter": "12h"}


def pipeline_with(prod: dict[str, Any] | None = None, gates: dict[str, Any] | None = None,
                  staging: dict[str, Any] | None = None) -> Pipeline:
    data = yaml.safe_load(default_pipeline_text())
    envs = data["apps"]["myapp"]["environments"]
    envs[2].update(prod or {})
    envs[2]["gates"]["changeWindows"] = []  # any time: the tests step the clock by hours
    envs[2]["gates"].update(gates or {})
    envs[1].update(staging or {})
    return parse_pipeline(yaml.safe_dump(data, sort_keys=False), "test pipeline")


@pytest.fixture
def timed(store: Any) -> World:
    return new_world(store, pipeline_with({"waiting": WAITING}))


def waiting_prod(world: World) -> Promotion:
    sha = world.forge.push("staging")
    world.cluster.deploy("myapp-staging", "staging", sha)
    record = world.requested("prod")
    assert record.state is State.AWAITING_GATES
    return record


def facts_of(world: World, record: Promotion, kind: type) -> list[Any]:
    return [e.facts for e in world.store.events(record.id) if isinstance(e.facts, kind)]


def test_reminder_goes_when_due_to_the_approvers_who_have_not_answered(timed: World) -> None:
    record = waiting_prod(timed)
    timed.clock.advance(hours=1, minutes=59)
    assert timed.core.runner.due() == []  # not yet
    timed.clock.advance(minutes=1)
    assert timed.core.runner.due() == [record.id]
    [reminded] = facts_of(timed, record, Reminded)
    # the stakeholders group minus the requester (DEVELOPER is a member too)
    assert reminded == Reminded(timedelta(hours=2), (STAKEHOLDER, STAKEHOLDER2))
    after = timed.store.get(record.id)
    assert after is not None and after.reminded_at == timed.clock.now()
    event = next(e for e in timed.store.events(record.id) if isinstance(e.facts, Reminded))
    text = thread_detail(event, after)
    assert text is not None and "has waited 2h for its gates" in text
    assert "0 of 1 stakeholder approval" in text and f"<@{STAKEHOLDER}>" in text


def test_each_timer_is_recorded_once_however_often_it_is_looked_at(timed: World) -> None:
    record = waiting_prod(timed)
    timed.clock.advance(hours=3)
    for _ in range(3):
        timed.core.runner.due()
        timed.core.runner.tick()
    assert len(facts_of(timed, record, Reminded)) == 1
    timed.clock.advance(hours=3)
    for _ in range(3):
        timed.core.runner.tick()
    [escalated] = facts_of(timed, record, Escalated)
    assert escalated == Escalated(timedelta(hours=6), "S0ONCALL", ("U0ONCALL",))
    assert len(facts_of(timed, record, Reminded)) == 1


def test_after_a_long_outage_the_reminder_and_the_escalation_both_go(timed: World) -> None:
    record = waiting_prod(timed)
    timed.clock.advance(hours=7)  # nobody looked in between
    timed.core.runner.resume()
    kinds = [e.kind.value for e in timed.store.events(record.id)][-2:]
    assert kinds == ["escalated", "reminded"]
    assert timed.store.get(record.id).state is State.AWAITING_GATES  # type: ignore[union-attr]


def test_expiry_is_the_envs_own(timed: World) -> None:
    record = waiting_prod(timed)
    timed.clock.advance(hours=11, minutes=59)
    timed.core.runner.tick()
    assert timed.store.get(record.id).live  # type: ignore[union-attr]
    timed.clock.advance(minutes=1)
    timed.core.runner.due()
    expired = timed.store.get(record.id)
    assert expired is not None and expired.state is State.EXPIRED
    assert facts_of(timed, record, Expired) == [Expired(timedelta(hours=12))]
    assert expired.failure is not None and expired.failure.timeout == timedelta(hours=12)
    assert sentence(expired.failure) == "expired waiting for its gates"
    assert timed.store.take_due(timed.clock.now() + timedelta(days=9)) == []  # nothing left


def test_the_default_expiry_is_24_hours_without_reminders(world: World) -> None:
    record = waiting_prod(world)
    world.clock.advance(hours=23)
    world.core.runner.tick()
    assert world.store.get(record.id).live  # type: ignore[union-attr]
    assert facts_of(world, record, Reminded) == []
    world.clock.advance(hours=1)
    world.core.runner.due()
    assert world.store.get(record.id).state is State.EXPIRED  # type: ignore[union-attr]


def test_due_times_are_in_redis_and_a_restarted_bot_keeps_them(timed: World) -> None:
    record = waiting_prod(timed)
    remind_at = record.requested_at + timedelta(hours=2)
    assert timed.store.take_due(remind_at - timedelta(seconds=1)) == []
    restarted = build_core(pipeline_with({"waiting": WAITING}), timed.store, timed.forge,
                           timed.cluster, timed.directory, timed.notifier, timed.clock,
                           timed.workspace, owner="after-restart")
    timed.clock.advance(hours=2)
    assert restarted.runner.due() == [record.id]
    assert len(facts_of(timed, record, Reminded)) == 1
    # the next due time is the escalation's
    escalate_at = record.requested_at + timedelta(hours=6)
    assert timed.store.take_due(escalate_at - timedelta(seconds=1)) == []
    assert timed.store.take_due(escalate_at) == [record.id]


def test_two_replicas_applying_at_once_remind_once(timed: World) -> None:
    record = waiting_prod(timed)
    other = build_core(pipeline_with({"waiting": WAITING}), timed.store, timed.forge,
                       timed.cluster, timed.directory, timed.notifier, timed.clock,
                       timed.workspace, owner="replica-b")
    timed.clock.advance(hours=2)
    stale = timed.store.get(record.id)
    assert stale is not None
    barrier = threading.Barrier(2)

    def apply(core: Any) -> None:
        barrier.wait()
        core.timers.apply(stale)

    threads = [threading.Thread(target=apply, args=(c,)) for c in (timed.core, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(facts_of(timed, record, Reminded)) == 1


def test_a_merge_waiting_for_its_window_reminds_nobody_and_expires_from_the_window(
        store: Any) -> None:
    world = new_world(store, pipeline_with(
        {"waiting": {"remindAfter": "1h", "expireAfter": "2h"}},
        {"changeWindows": [{"days": ["sat"], "start": "09:00", "end": "17:00"}],
         "requiredChecks": [], "requiredReviews": 0, "rollbackPlan": False}))
    record = waiting_prod(world)
    world.core.commands.approve(record.id, STAKEHOLDER)
    scheduled = world.store.get(record.id)
    assert scheduled is not None and scheduled.merge_not_before is not None  # Saturday 09:00
    world.clock.advance(hours=60)  # well past the reminder and 2h: but the window opens later
    world.core.runner.tick()
    after = world.store.get(record.id)
    assert after is not None and after.live and facts_of(world, record, Reminded) == []


def test_a_merged_record_has_no_timer_left(timed: World) -> None:
    record = waiting_prod(timed)
    timed.forge.set_check(record.head_sha or "", "ci", "success")
    timed.forge.review(record.pr_number or 0, REVIEWER)
    timed.core.commands.set_rollback_plan(record.id, DEVELOPER, "revert it")
    timed.core.commands.approve(record.id, STAKEHOLDER)
    merged = timed.store.get(record.id)
    assert merged is not None and merged.state is State.RECONCILING
    timed.clock.advance(hours=30)
    timed.core.runner.due()
    assert facts_of(timed, record, Reminded) == facts_of(timed, record, Expired) == []


def test_the_reminder_asks_only_those_whose_approval_would_help(store: Any) -> None:
    world = new_world(store, pipeline_with(
        {"waiting": {"remindAfter": "1h"}},
        {"stakeholderApprovals": 2, "approvers": {"atLeast": {"S0SRE": 1, "S0PRODUCT": 1}}}))
    world.directory.groups.update({"S0SRE": {STAKEHOLDER, "U0SRE2"},
                                   "S0PRODUCT": {"U0PM1", "U0PM2", DEVELOPER}})
    record = waiting_prod(world)
    world.core.commands.approve(record.id, STAKEHOLDER)  # SRE's share is filled
    world.clock.advance(hours=1)
    world.core.runner.due()
    [reminded] = facts_of(world, record, Reminded)
    assert reminded.users == ("U0PM1", "U0PM2")  # not the requester, not SRE any more


def test_a_reminder_where_no_approval_is_asked_tells_the_thread_only(store: Any) -> None:
    world = new_world(store, pipeline_with(staging={"waiting": {"remindAfter": "30m"}}))
    record = world.requested("staging")
    world.clock.advance(minutes=30)
    world.core.runner.due()
    [reminded] = facts_of(world, record, Reminded)
    assert reminded == Reminded(timedelta(minutes=30), ())
    event = next(e for e in world.store.events(record.id) if isinstance(e.facts, Reminded))
    text = thread_detail(event, world.store.get(record.id) or record)
    assert text is not None and "waiting for ci" in text and "0 of 1 approving review" in text
