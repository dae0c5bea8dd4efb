"""The index of finished records by finish time (RedisStore.finished) on a real redis-server,
and the delivery figures read through it (slackbot/delivery.py), cached between asks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis

from slackbot.adapters.redis_store import RedisStore
from slackbot.delivery import Delivery
from slackbot.events import Deployed, Event, Facts, Requested
from slackbot.models import Kind, Promotion, State
from tests.core.fakes import FakeClock

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _event(p: Promotion, facts: Facts) -> Event:
    return Event(p.id, p.app, p.env, "U1", NOW, facts)


def finish(store: RedisStore, state: State, at: datetime, env: str = "prod",
           kind: Kind = Kind.PROMOTION) -> Promotion:
    p = Promotion(id=store.next_id(), kind=kind, app="myapp", env=env, source_branch="staging",
                  target_branch=env, requested_by="U1", requested_at=at - timedelta(hours=1),
                  head_sha="a" * 40, first_commit_at=at - timedelta(hours=3))
    p = store.create(p, _event(p, Requested("a" * 40)))
    for step in (State.PR_OPEN, State.AWAITING_GATES, State.MERGING, State.RECONCILING):
        p = store.transition(p, _event(p, Requested("a" * 40)), step,
                             merge_sha="b" * 40 if step is State.MERGING else p.merge_sha)
    return store.transition(p, _event(p, Deployed("b" * 40)), state, finished_at=at)


def test_finished_reads_deployed_and_failed_by_finish_time_within_bounds(
        store: RedisStore) -> None:
    old = finish(store, State.DEPLOYED, NOW - timedelta(days=10))
    recent = finish(store, State.DEPLOYED, NOW - timedelta(hours=2))
    failed = finish(store, State.FAILED, NOW - timedelta(hours=1))
    finish(store, State.DEPLOYED, NOW - timedelta(hours=1), env="staging")
    found = store.finished("myapp", "prod", NOW - timedelta(days=7), NOW)
    assert [p.id for p in found] == [failed.id, recent.id]  # newest first, other envs apart
    edges = store.finished("myapp", "prod", NOW - timedelta(days=10), NOW - timedelta(hours=2))
    assert [p.id for p in edges] == [recent.id, old.id]  # both bounds included
    assert [p.id for p in store.finished("myapp", "prod", NOW - timedelta(days=30), NOW,
                                         limit=1)] == [failed.id]
    assert found[1].first_commit_at == NOW - timedelta(hours=5)  # kept on the record


def test_cancelled_and_live_records_are_not_indexed(store: RedisStore,
                                                    redis_client: redis.Redis,
                                                    prefix: str) -> None:
    p = Promotion(id=store.next_id(), kind=Kind.PROMOTION, app="myapp", env="prod",
                  source_branch="staging", target_branch="prod", requested_by="U1",
                  requested_at=NOW)
    p = store.create(p, _event(p, Requested("a" * 40)))
    assert store.finished("myapp", "prod", NOW - timedelta(days=1), NOW) == []
    store.transition(p, _event(p, Requested("a" * 40)), State.CANCELLED, finished_at=NOW)
    assert store.finished("myapp", "prod", NOW - timedelta(days=1), NOW) == []
    assert not redis_client.exists(f"{prefix}outcomes:myapp:prod")


def test_delivery_reads_once_per_ttl_and_again_when_fresh(store: RedisStore) -> None:
    clock = FakeClock(NOW)
    delivery = Delivery(store, clock, [("myapp", "staging"), ("myapp", "prod")],
                        ttl=timedelta(seconds=60))
    finish(store, State.DEPLOYED, NOW - timedelta(hours=2))
    first = delivery.figures("myapp")
    assert [(f.env, f.days, f.deploys) for f in first][3:] == [
        ("prod", 7, 1), ("prod", 30, 1), ("prod", 90, 1)]
    assert first[3].lead_time == timedelta(hours=3)
    finish(store, State.DEPLOYED, NOW - timedelta(hours=1))
    assert delivery.figures()[3].deploys == 1 and delivery.reads == 1  # kept
    clock.advance(seconds=60)
    assert delivery.figures()[3].deploys == 2 and delivery.reads == 2
    finish(store, State.DEPLOYED, NOW)
    assert delivery.figures(fresh=True)[3].deploys == 3 and delivery.reads == 3
