"""The store through Redis Sentinel (redis-py's Sentinel client, as REDIS_SENTINELS wires it)
against real redis-server and redis-sentinel processes: the primary is killed, the sentinels
promote its replica, and the store goes on with nothing lost or doubled -- the records, their
versions, the id counter and the env lock all as they were, and compare-and-set still lets
exactly one writer win."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from slackbot.adapters.redis_connect import SentinelTarget, connect
from slackbot.adapters.redis_store import RedisStore
from slackbot.errors import ConcurrentUpdate, StoreUnavailable
from slackbot.events import Cancelled, Event, HoldPlaced, Requested
from slackbot.models import Kind, Promotion, State
from tests.sentinels import SERVICE, sentinel_group
from tests.waiting import wait_for

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _new(store: RedisStore, app: str) -> Promotion:
    p = Promotion(id=store.next_id(), kind=Kind.PROMOTION, app=app, env="staging",
                  source_env="dev", source_branch="dev", target_branch="staging",
                  requested_by="U1", requested_at=NOW, head_sha="a" * 40)
    return store.create(p, Event(p.id, p.app, p.env, "U1", NOW, Requested("a" * 40)))


def _step(store: RedisStore, p: Promotion, what: str) -> Promotion:
    return store.transition(p, Event(p.id, p.app, p.env, "U1", NOW, HoldPlaced(what)))


def test_a_primary_failover_loses_and_doubles_nothing(prefix: str) -> None:
    with sentinel_group() as group:
        store = RedisStore(connect(None, SentinelTarget(group.sentinels, SERVICE)),
                           prefix=prefix)
        first = _step(store, _new(store, "myapp"), "before the failover")
        fence = store.acquire("myapp", "staging", "replica-a", 600_000)
        assert fence is not None
        # what the primary acknowledged is on the replica before the primary dies
        assert group.client(group.primary_port).wait(1, 10_000) >= 1

        group.kill(group.primary_port)
        wait_for(lambda: group.primary_as_sentinels_see_it() == group.replica_port,
                 "the sentinels to promote the replica", timeout=90)
        wait_for(store.ping, "the store to reach the new primary", ignoring=(StoreUnavailable,))

        kept = store.get(first.id)
        assert kept == first  # same version, same fields: nothing lost
        assert [e.facts for e in store.events(first.id)] == [
            Requested("a" * 40), HoldPlaced("before the failover")]
        store.check_fence(fence)  # the env lock survived with its fencing token
        assert store.acquire("myapp", "staging", "replica-b", 600_000) is None
        second = _new(store, "otherapp")
        assert second.id == first.id + 1  # the id counter went on, no second #1

        # compare-and-set on the new primary: one writer wins, a stale one is refused
        moved = _step(store, kept, "after the failover")
        with pytest.raises(ConcurrentUpdate):
            _step(store, kept, "a stale writer")
        done = store.transition(moved, Event(moved.id, moved.app, moved.env, "U1", NOW,
                                             Cancelled()), State.CANCELLED)
        assert done.version == first.version + 2
        assert store.live("myapp", "staging") is None
        assert [p.id for p in store.live_all()] == [second.id]
