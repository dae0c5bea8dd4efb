"""The queue of an env: a request while one is live waits in line with its place, starts by
itself when the env frees up with every rule checked again, can be left, and lives in Redis
(a restart and a second replica see the same line; two starters never start one entry)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers.messages.refusals import sentence
from handlers.messages.timeline import thread_detail
from slackbot.config import load_pipeline
from slackbot.engine.queueing import STALE_CLAIM, InLine
from slackbot.errors import DomainError, NotAllowed
from slackbot.events import Cancelled, Event, FromQueue, LeftQueue, Queued, QueueRefused
from slackbot.models import Promotion, QueueEntry, State
from tests.core.conftest import (
    DEVELOPER,
    REVIEWER,
    STAKEHOLDER,
    STAKEHOLDER2,
    World,
    build_core,
)


def _queued(world: World, user: str, env: str = "staging") -> InLine:
    waiting = world.core.queue.request("myapp", env, user)
    assert isinstance(waiting, InLine), waiting
    return waiting


def test_request_while_one_is_live_waits_in_line_with_its_place(world: World) -> None:
    live = world.requested("staging")
    first = _queued(world, REVIEWER)
    second = _queued(world, STAKEHOLDER2)
    assert (first.position, first.size, second.position, second.size) == (1, 1, 2, 2)
    assert first.live is not None and first.live.id == live.id
    assert [e.user for e in world.core.queue.line("myapp", "staging")] == [REVIEWER, STAKEHOLDER2]
    assert world.store.live("myapp", "staging") == world.store.get(live.id)  # nothing started
    said = [e.facts for e in world.store.events(live.id) if isinstance(e.facts, Queued)]
    assert said == [Queued(REVIEWER, 1), Queued(STAKEHOLDER2, 2)]


def test_the_same_person_twice_keeps_their_place_and_is_told(world: World) -> None:
    world.requested("staging")
    _queued(world, REVIEWER)
    _queued(world, STAKEHOLDER2)
    with pytest.raises(NotAllowed) as caught:
        world.core.queue.request("myapp", "staging", REVIEWER)
    assert sentence(caught.value.reason) == (
        "you are already in the queue for staging of myapp, at position 1: it starts by itself "
        "in turn; /promote leave staging takes you out")
    assert len(world.core.queue.line("myapp", "staging")) == 2


def test_a_free_env_starts_at_once_without_a_line(world: World) -> None:
    started = world.core.queue.request("myapp", "staging", DEVELOPER)
    assert isinstance(started, Promotion) and started.requested_by == DEVELOPER
    assert world.core.queue.line("myapp", "staging") == []


def test_the_next_in_line_starts_by_itself_when_the_env_frees_up(world: World) -> None:
    live = world.requested("staging")
    _queued(world, REVIEWER)
    _queued(world, STAKEHOLDER2)
    world.core.commands.cancel(live.id, DEVELOPER)  # the finish starts the next
    started = world.store.live("myapp", "staging")
    assert started is not None and started.id != live.id
    assert started.requested_by == REVIEWER and started.state is State.AWAITING_GATES
    [facts] = [e.facts for e in world.store.events(started.id) if isinstance(e.facts, FromQueue)]
    assert facts.behind == live.id
    assert [e.user for e in world.core.queue.line("myapp", "staging")] == [STAKEHOLDER2]
    detail = thread_detail(next(e for e in world.store.events(started.id)
                                if isinstance(e.facts, FromQueue)), started)
    assert detail is not None and "every rule was checked again" in detail


def test_a_rule_that_refuses_at_the_start_tells_the_person_and_the_next_goes(
        world: World) -> None:
    live = world.requested("staging")
    # queued before a restart whose new pipeline file has no qa env any more
    world.store.enqueue(QueueEntry("myapp", "staging", REVIEWER, world.clock.now(),
                                   source="qa"))
    _queued(world, STAKEHOLDER2)
    world.core.commands.cancel(live.id, DEVELOPER)
    started = world.store.live("myapp", "staging")
    assert started is not None and started.requested_by == STAKEHOLDER2
    [refused] = [e for e in world.store.events(live.id) if isinstance(e.facts, QueueRefused)]
    assert isinstance(refused.facts, QueueRefused) and refused.facts.user == REVIEWER
    assert sentence(refused.facts.reason).startswith("myapp has no environment `qa`")
    detail = thread_detail(refused, world.store.get(live.id) or live)
    assert detail is not None and f"<@{REVIEWER}>'s queued request for staging" in detail
    assert world.core.queue.line("myapp", "staging") == []


def test_a_source_that_moved_on_refuses_every_start_in_turn(world: World) -> None:
    live = world.requested("staging")
    _queued(world, REVIEWER)
    _queued(world, STAKEHOLDER2)
    # dev moves on while staging waits, and Flux has not applied it yet: not Ready at the head
    world.forge.push("dev")
    world.core.commands.cancel(live.id, DEVELOPER)
    assert world.store.live("myapp", "staging") is None
    refused = [e.facts for e in world.store.events(live.id) if isinstance(e.facts, QueueRefused)]
    assert [f.user for f in refused] == [REVIEWER, STAKEHOLDER2]
    assert "has not applied the head of dev" in sentence(refused[0].reason)
    assert world.core.queue.line("myapp", "staging") == []


def test_a_freeze_placed_while_they_wait_refuses_them_at_their_start(world: World) -> None:
    live = world.requested("staging")
    _queued(world, REVIEWER)
    world.core.holds.freeze("myapp", "staging", STAKEHOLDER, "release train")
    world.core.commands.cancel(live.id, DEVELOPER)
    assert world.store.live("myapp", "staging") is None
    [refused] = [e.facts for e in world.store.events(live.id) if isinstance(e.facts, QueueRefused)]
    assert sentence(refused.reason).startswith("staging is frozen by")


def test_leaving_the_line_and_leaving_it_twice(world: World) -> None:
    live = world.requested("staging")
    _queued(world, REVIEWER)
    _queued(world, STAKEHOLDER2)
    entry = world.core.queue.leave("myapp", "staging", REVIEWER)
    assert entry.user == REVIEWER
    assert [e.user for e in world.core.queue.line("myapp", "staging")] == [STAKEHOLDER2]
    assert LeftQueue(REVIEWER) in [e.facts for e in world.store.events(live.id)]
    with pytest.raises(NotAllowed) as caught:
        world.core.queue.leave("myapp", "staging", REVIEWER)
    assert sentence(caught.value.reason) == (
        "you are not in the queue for staging of myapp: nothing to leave")
    world.core.commands.cancel(live.id, DEVELOPER)
    started = world.store.live("myapp", "staging")
    assert started is not None and started.requested_by == STAKEHOLDER2


def test_a_request_that_could_never_start_does_not_wait(world: World) -> None:
    world.requested("staging")
    world.core.holds.freeze("myapp", "prod", STAKEHOLDER, "audit")
    with pytest.raises(DomainError):  # dev is the first env: nothing is promoted into it
        world.core.queue.request("myapp", "dev", REVIEWER)
    with pytest.raises(DomainError):  # frozen: refused now, not in line
        world.core.queue.request("myapp", "prod", REVIEWER)
    assert world.core.queue.line("myapp", "dev") == world.core.queue.line("myapp", "prod") == []


def test_a_new_request_joins_the_line_while_others_wait_even_if_the_env_is_free(
        world: World) -> None:
    """Between a record's end and its successor's start the env is free for a moment: a new
    request then joins the line behind those already waiting, it never jumps it."""
    world.store.enqueue(QueueEntry("myapp", "staging", REVIEWER, world.clock.now()))
    waiting = _queued(world, STAKEHOLDER2)
    assert (waiting.position, waiting.live) == (2, None)
    started = world.store.live("myapp", "staging")
    assert started is not None and started.requested_by == REVIEWER
    assert [e.user for e in world.core.queue.line("myapp", "staging")] == [STAKEHOLDER2]


def _finished_unseen(world: World, record: Promotion) -> None:
    """The record ends where this process does not see it (another replica, before a crash)."""
    current = world.store.get(record.id)
    assert current is not None
    world.store.transition(current, Event(record.id, record.app, record.env, DEVELOPER,
                                          world.clock.now(), Cancelled()), State.CANCELLED)


def test_the_line_survives_a_restart_and_is_started_by_the_tick(world: World) -> None:
    live = world.requested("staging")
    _queued(world, REVIEWER)
    _finished_unseen(world, live)  # ... and the process died before it started the next
    restarted = build_core(load_pipeline(None), world.store, world.forge, world.cluster,
                           world.directory, world.notifier, world.clock, world.workspace,
                           owner="replica-b")
    assert [e.user for e in restarted.queue.line("myapp", "staging")] == [REVIEWER]
    restarted.queue.tick()  # as at start-up
    started = world.store.live("myapp", "staging")
    assert started is not None and started.requested_by == REVIEWER


def test_two_replicas_never_start_the_same_entry(world: World) -> None:
    live = world.requested("staging")
    _queued(world, REVIEWER)
    other = build_core(load_pipeline(None), world.store, world.forge, world.cluster,
                       world.directory, world.notifier, world.clock, world.workspace,
                       owner="replica-b")
    _finished_unseen(world, live)
    claimed = world.store.claim_queued("myapp", "staging", world.clock.now())  # A is starting
    assert claimed is not None and claimed.user == REVIEWER
    assert other.queue.start_next("myapp", "staging") is None  # B sees the claim: no start
    assert world.store.live("myapp", "staging") is None
    other.queue.tick()  # a fresh claim is left alone
    assert world.store.claim("myapp", "staging") is not None
    world.clock.advance(seconds=STALE_CLAIM.total_seconds() + 1)  # A died mid-start
    other.queue.tick()
    started = world.store.live("myapp", "staging")
    assert started is not None and started.requested_by == REVIEWER
    assert world.store.claim("myapp", "staging") is None


def test_a_stale_claim_whose_start_happened_is_dropped_not_started_again(world: World) -> None:
    live = world.requested("staging")
    _queued(world, REVIEWER)
    _finished_unseen(world, live)
    assert world.store.claim_queued("myapp", "staging", world.clock.now()) is not None
    world.clock.advance(seconds=1)
    # the start went through, then the process died before it released the claim
    started = world.core.commands.request("myapp", "staging", REVIEWER)
    world.core.commands.cancel(started.id, REVIEWER)  # and it has finished since
    world.clock.advance(seconds=STALE_CLAIM.total_seconds() + 1)
    world.core.queue.tick()
    assert world.store.claim("myapp", "staging") is None
    assert world.store.live("myapp", "staging") is None
    assert [r.requested_by for r in world.store.history("myapp", "staging")].count(REVIEWER) == 1
    assert world.core.queue.line("myapp", "staging") == []


def test_queued_and_left_are_audit_events_on_the_live_record(world: World) -> None:
    live = world.requested("staging")
    _queued(world, REVIEWER)
    world.core.queue.leave("myapp", "staging", REVIEWER)
    kinds = [e.kind.value for e in world.store.events(live.id)]
    assert kinds[-2:] == ["queued", "left_queue"]
    assert world.clock.now() - world.store.events(live.id)[-1].at < timedelta(seconds=1)
