"""The access policy in the core: the one check and its refusals, per env and channel; freezes
and holds that keep their owner; a cancelled rollback's own hold lifted; a retry authorized as
what it repeats. The engine over the fakes and the real redis-server."""

from __future__ import annotations

import threading

import pytest
import redis

from handlers.messages.refusals import sentence
from slackbot.config import parse_pipeline
from slackbot.engine.access import Access
from slackbot.errors import NotAllowed
from slackbot.events import Event, Frozen, HoldKept, Unlocked
from slackbot.models import Block, BlockKind, Kind, State
from slackbot.reasons import Action, Code
from tests.core.conftest import (
    DEVELOPER,
    OUTSIDER,
    REVIEWER,
    STAKEHOLDER,
    STAKEHOLDER2,
    World,
    snapshot,
)
from tests.core.fakes import FakeDirectory
from tests.core.test_incidents import ONCALL, with_history

DEPLOYS, INCIDENTS, ELSEWHERE = "C0DEPLOYS", "C0INCIDENT", "C0RANDOM"


def refused(call, *args, **kwargs) -> NotAllowed:  # type: ignore[no-untyped-def]
    with pytest.raises(NotAllowed) as caught:
        call(*args, **kwargs)
    return caught.value


# -- the check --------------------------------------------------------------------------------


def test_nobody_outside_a_role_changes_anything(world: World, redis_client: redis.Redis,
                                                 prefix: str) -> None:
    world.push_dev()
    _, previous, _ = with_history(world, "staging")
    before = snapshot(redis_client, prefix)
    calls = list(world.forge.calls)
    core = world.core
    for attempt in (
        lambda: core.commands.request("myapp", "staging", OUTSIDER, channel=DEPLOYS),
        lambda: core.holds.freeze("myapp", "prod", OUTSIDER, "mine now", DEPLOYS),
        lambda: core.holds.unlock("myapp", "prod", OUTSIDER, DEPLOYS),
        lambda: core.incidents.rollback("myapp", "staging", OUTSIDER, to=previous,
                                        channel=DEPLOYS),
        lambda: core.incidents.hotfix_start("myapp", "mine", OUTSIDER, DEPLOYS),
        lambda: core.incidents.hotfix_promote("myapp", "mine", OUTSIDER, DEPLOYS),
    ):
        assert refused(attempt).reason.code is Code.NOT_PERMITTED
    assert snapshot(redis_client, prefix) == before
    assert world.forge.calls == calls


def test_a_refusal_names_the_rule_and_whom_to_ask(world: World) -> None:
    error = refused(world.core.holds.freeze, "myapp", "prod", REVIEWER, "x", DEPLOYS)
    assert sentence(error.reason) == (
        f"freezing prod needs the stakeholder or on-call role: ask <@{DEVELOPER}>, "
        f"<@{STAKEHOLDER}>, <@{STAKEHOLDER2}> or <@{ONCALL}>")


def test_a_big_group_is_named_not_listed(world: World) -> None:
    world.directory.groups["S0STAKEHOLDERS"] |= {f"U0MANY{n}" for n in range(6)}
    world.directory.groups["S0ONCALL"] = set()
    error = refused(world.core.holds.freeze, "myapp", "prod", REVIEWER, "x", DEPLOYS)
    assert sentence(error.reason) == ("freezing prod needs the stakeholder or on-call role: "
                                      "ask someone who has it")


def test_the_channel_is_part_of_the_rule(world: World) -> None:
    error = refused(world.core.holds.freeze, "myapp", "prod", STAKEHOLDER, "x", ELSEWHERE)
    assert error.reason.code is Code.WRONG_CHANNEL
    assert sentence(error.reason) == (f"freezing prod is done in <#{DEPLOYS}> or "
                                      f"<#{INCIDENTS}>: run it there")
    assert world.core.holds.freeze("myapp", "prod", STAKEHOLDER, "x", INCIDENTS).by == STAKEHOLDER


def test_user_lists_need_no_directory_and_groups_ask_it(world: World) -> None:
    asked: list[tuple[str, str]] = []

    class Counting(FakeDirectory):
        def is_member(self, group: str, user: str) -> bool:
            asked.append((group, user))
            return super().is_member(group, user)

    access = Access(Counting(world.directory.groups))
    app = world.core.lookup.app("myapp")
    access.check(Action.REQUEST, app, app.env("staging"), DEVELOPER, DEPLOYS)  # on the list
    assert asked == []
    access.check(Action.REQUEST, app, app.env("staging"), STAKEHOLDER, DEPLOYS)  # in a group
    assert asked == [("S0STAKEHOLDERS", STAKEHOLDER)]


def test_an_env_may_have_its_own_rule() -> None:
    pipeline = parse_pipeline("""
apps:
  shop:
    repository: acme/shop
    channels: {deploys: C1, incidents: C2}
    roles:
      developer: {users: [U1]}
      release: {users: [U2], group: S3}
    access:
      freeze: {roles: [developer]}
    environments:
      - name: dev
      - name: live
        access:
          request: {roles: [release], channels: [C9]}
""")
    app = pipeline.app("shop")
    assert app.env("dev").access.rule(Action.FREEZE).roles == ("developer",)
    assert app.env("live").access.rule(Action.FREEZE).roles == ("developer",)
    rule = app.env("live").access.rule(Action.REQUEST)
    assert (rule.roles, rule.channels) == (("release",), ("C9",))
    access = Access(FakeDirectory({"S3": {"U4"}}))
    for user, channel, allowed in (("U2", "C9", True), ("U4", "C9", True), ("U1", "C9", False),
                                   ("U2", "C1", False)):
        try:
            access.check(Action.REQUEST, app, app.env("live"), user, channel)
            assert allowed, (user, channel)
        except NotAllowed:
            assert not allowed, (user, channel)


# -- freezes and holds keep their owner ---------------------------------------------------------


def test_a_second_freeze_by_someone_else_is_refused_and_the_owner_kept(world: World) -> None:
    world.core.holds.freeze("myapp", "prod", STAKEHOLDER, "release week")
    error = refused(world.core.holds.freeze, "myapp", "prod", ONCALL, "mine now")
    assert error.reason.code is Code.ALREADY_FROZEN
    assert sentence(error.reason) == (
        f"prod is already frozen by <@{STAKEHOLDER}> since 2026-11-25 12:00 UTC (release week): "
        f"a freeze keeps its owner; ask them, or unfreeze it first if you may, then freeze it "
        f"with your reason")
    [block] = world.store.blocks("myapp", "prod")
    assert (block.by, block.reason) == (STAKEHOLDER, "release week")
    # the owner may change the reason; someone the policy names may lift it
    assert world.core.holds.freeze("myapp", "prod", STAKEHOLDER, "sale").reason == "sale"
    assert world.core.holds.unfreeze("myapp", "prod", ONCALL)
    assert world.core.holds.freeze("myapp", "prod", ONCALL, "incident").by == ONCALL


def test_two_freezes_at_once_leave_one_owner(world: World) -> None:
    results: dict[str, object] = {}
    start = threading.Barrier(2)

    def freeze(user: str) -> None:
        start.wait()
        try:
            results[user] = world.core.holds.freeze("myapp", "prod", user, f"by {user}").by
        except NotAllowed as error:
            results[user] = error.reason.code

    threads = [threading.Thread(target=freeze, args=(u,)) for u in (STAKEHOLDER, ONCALL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    [block] = world.store.blocks("myapp", "prod")
    assert sorted(map(str, results.values())) == sorted([block.by, Code.ALREADY_FROZEN.value])
    frozen = [e for e in world.store.events() if isinstance(e.facts, Frozen)]
    assert [e.actor for e in frozen] == [block.by]  # one freeze recorded, the winner's


def test_the_store_swaps_a_block_only_from_what_it_expects(world: World) -> None:
    store = world.store
    now = world.clock.now()
    mine = Block(BlockKind.FREEZE, "myapp", "prod", STAKEHOLDER, "mine", now)
    theirs = Block(BlockKind.FREEZE, "myapp", "prod", ONCALL, "theirs", now)
    event = Event(None, "myapp", "prod", STAKEHOLDER, now, Frozen("mine"))
    assert store.swap_block(mine, event, None)
    assert not store.swap_block(theirs, event, None)  # it is not absent any more
    assert not store.clear_block(BlockKind.FREEZE, "myapp", "prod", event, theirs)
    assert store.blocks("myapp", "prod") == [mine]
    assert store.swap_block(theirs, event, mine)
    assert store.clear_block(BlockKind.FREEZE, "myapp", "prod", event, theirs)
    assert store.blocks("myapp", "prod") == []


def test_a_cancelled_rollback_lifts_its_own_hold(world: World) -> None:
    _, previous, _ = with_history(world, "staging")
    rollback = world.core.incidents.rollback("myapp", "staging", REVIEWER, to=previous)
    assert [b.record for b in world.store.blocks("myapp", "staging")] == [rollback.id]
    world.core.commands.cancel(rollback.id, REVIEWER)
    assert world.store.blocks("myapp", "staging") == []
    lifted = [e for e in world.store.events(rollback.id) if isinstance(e.facts, Unlocked)]
    assert [e.actor for e in lifted] == [REVIEWER]


def test_a_rollback_under_another_persons_hold_leaves_it_theirs(world: World) -> None:
    _, previous, older = with_history(world, "staging")
    first = world.core.incidents.rollback("myapp", "staging", STAKEHOLDER, to=previous,
                                          reason="bad config")
    world.core.commands.cancel(first.id, STAKEHOLDER)
    world.core.holds.hold(world.store.get(first.id), STAKEHOLDER, "bad config")  # type: ignore[arg-type]
    second = world.core.incidents.rollback("myapp", "staging", REVIEWER, to=older)
    [hold] = world.store.blocks("myapp", "staging")
    assert (hold.by, hold.record) == (STAKEHOLDER, first.id)
    kept = [e.facts for e in world.store.events(second.id) if isinstance(e.facts, HoldKept)]
    assert kept == [HoldKept(STAKEHOLDER, first.id)]
    world.core.commands.cancel(second.id, REVIEWER)  # not its hold: it stays
    assert [b.by for b in world.store.blocks("myapp", "staging")] == [STAKEHOLDER]
    error = refused(world.core.holds.unlock, "myapp", "staging", REVIEWER)
    assert error.reason.code is Code.NOT_PERMITTED and error.reason.who == STAKEHOLDER


def test_ones_own_hold_is_replaced_by_ones_next_rollback(world: World) -> None:
    _, previous, older = with_history(world, "staging")
    first = world.core.incidents.rollback("myapp", "staging", REVIEWER, to=previous)
    world.core.commands.cancel(first.id, REVIEWER)
    world.core.holds.hold(world.store.get(first.id), REVIEWER, "still bad")  # type: ignore[arg-type]
    second = world.core.incidents.rollback("myapp", "staging", REVIEWER, to=older)
    assert [(b.by, b.record) for b in world.store.blocks("myapp", "staging")] == [
        (REVIEWER, second.id)]
    world.core.commands.cancel(second.id, STAKEHOLDER)  # lifts it: it is second's own now
    assert world.store.blocks("myapp", "staging") == []


# -- a retry is authorized as the action it repeats -----------------------------------------


def test_a_retry_is_authorized_as_the_action_it_repeats(world: World) -> None:
    world.push_dev()
    first = world.core.commands.request("myapp", "staging", DEVELOPER)
    world.core.commands.cancel(first.id, DEVELOPER)
    again = world.core.incidents.retry(first.id, REVIEWER, DEPLOYS)  # reviewers may request
    assert (again.kind, again.requested_by) == (Kind.PROMOTION, REVIEWER)
    world.core.commands.cancel(again.id, REVIEWER)
    error = refused(world.core.incidents.retry, first.id, OUTSIDER, DEPLOYS)
    assert sentence(error.reason).startswith(
        f"retrying #{first.id} (a new promotion into staging) needs the developer, reviewer, "
        f"stakeholder or on-call role")

    world.core.incidents.hotfix_start("myapp", "login", ONCALL)
    hotfix = world.core.incidents.hotfix_promote("myapp", "login", ONCALL)
    world.core.commands.cancel(hotfix.id, ONCALL)
    error = refused(world.core.incidents.retry, hotfix.id, REVIEWER, DEPLOYS)
    assert sentence(error.reason).startswith(
        f"retrying hotfix #{hotfix.id} (promoting it into prod again) needs the stakeholder or "
        f"on-call role")
    assert world.core.incidents.retry(hotfix.id, STAKEHOLDER, DEPLOYS).state is not State.FAILED
