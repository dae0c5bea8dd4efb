"""The store's queues, due index and wide freezes, against a real redis-server and the same
contract against the embedded Redis: every operation atomic under racing callers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from slackbot.adapters.redis_store import RedisStore, open_redis
from slackbot.events import Event, Frozen
from slackbot.models import Block, BlockKind, QueueEntry
from slackbot.pipeline import ALL

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["redis-server", "embedded"])
def any_store(request: pytest.FixtureRequest, redis_url: str, prefix: str) -> RedisStore:
    client = open_redis(redis_url if request.param == "redis-server" else None)
    return RedisStore(client, prefix=prefix)


def entry(user: str, env: str = "staging", **kwargs: object) -> QueueEntry:
    return QueueEntry("myapp", env, user, NOW, **kwargs)  # type: ignore[arg-type]


def together(n: int, work: Callable[[int], object]) -> list[object]:
    """`work(i)` for i in range(n), all released at once; their results."""
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_enqueue_gives_places_in_order_and_keeps_a_persons_place(any_store: RedisStore) -> None:
    first, position, added = any_store.enqueue(entry("U1", channel="C1", source="dev"))
    assert (position, added, first.channel, first.source) == (1, True, "C1", "dev")
    assert any_store.enqueue(entry("U2"))[1:] == (2, True)
    again, position, added = any_store.enqueue(entry("U1", channel="C9"))
    assert (position, added, again.channel) == (1, False, "C1")  # their first request stands
    assert [e.user for e in any_store.queue("myapp", "staging")] == ["U1", "U2"]
    assert any_store.queue("myapp", "prod") == []


def test_twenty_people_queueing_at_once_get_twenty_distinct_places(
        any_store: RedisStore) -> None:
    places = together(20, lambda i: any_store.enqueue(entry(f"U{i:02d}"))[1])
    assert sorted(places) == list(range(1, 21))  # type: ignore[type-var]
    line = any_store.queue("myapp", "staging")
    assert len(line) == 20 and [e.seq for e in line] == sorted(e.seq for e in line)


def test_leave_takes_only_that_person_out(any_store: RedisStore) -> None:
    for user in ("U1", "U2", "U3"):
        any_store.enqueue(entry(user))
    left = any_store.leave_queue("myapp", "staging", "U2")
    assert left is not None and left.user == "U2"
    assert any_store.leave_queue("myapp", "staging", "U2") is None
    assert [e.user for e in any_store.queue("myapp", "staging")] == ["U1", "U3"]
    assert any_store.enqueue(entry("U2"))[1] == 3  # back at the end


def test_one_claim_at_a_time_and_released_back_to_the_head(any_store: RedisStore) -> None:
    any_store.enqueue(entry("U1"))
    any_store.enqueue(entry("U2"))
    claims = together(10, lambda _: any_store.claim_queued("myapp", "staging", NOW))
    won = [c for c in claims if c is not None]
    assert len(won) == 1 and won[0].user == "U1"  # type: ignore[union-attr]
    assert [e.user for e in any_store.queue("myapp", "staging")] == ["U2"]
    held = any_store.claim("myapp", "staging")
    assert held is not None and held[0].user == "U1" and held[1] == NOW
    any_store.release_claim("myapp", "staging", requeue=True)  # the start could not happen
    assert [e.user for e in any_store.queue("myapp", "staging")] == ["U1", "U2"]
    assert any_store.claim("myapp", "staging") is None
    assert any_store.claim_queued("myapp", "staging", NOW) is not None
    any_store.release_claim("myapp", "staging", requeue=False)  # it started (or was refused)
    assert [e.user for e in any_store.queue("myapp", "staging")] == ["U2"]


def test_claiming_an_empty_line_claims_nothing(any_store: RedisStore) -> None:
    assert any_store.claim_queued("myapp", "staging", NOW) is None
    assert any_store.claim("myapp", "staging") is None
    any_store.release_claim("myapp", "staging", requeue=True)  # harmless
    assert any_store.queue("myapp", "staging") == []


def test_due_records_are_taken_once_each_by_racing_takers(any_store: RedisStore) -> None:
    for record in range(1, 31):
        any_store.set_due(record, NOW - timedelta(seconds=record))
    any_store.set_due(99, NOW + timedelta(minutes=1))
    taken = together(8, lambda _: any_store.take_due(NOW))
    flat = sorted(i for batch in taken for i in batch)  # type: ignore[attr-defined]
    assert flat == list(range(1, 31))
    assert any_store.take_due(NOW) == []
    assert any_store.take_due(NOW + timedelta(minutes=1)) == [99]


def test_due_time_moves_and_clears(any_store: RedisStore) -> None:
    any_store.set_due(7, NOW)
    any_store.set_due(7, NOW + timedelta(hours=1))  # rescheduled: one entry, the new time
    assert any_store.take_due(NOW) == []
    any_store.clear_due(7)
    assert any_store.take_due(NOW + timedelta(hours=2)) == []


def test_an_envs_blocks_include_the_freeze_of_its_app_and_of_every_app(
        any_store: RedisStore) -> None:
    def freeze(app: str, env: str) -> Block:
        block = Block(BlockKind.FREEZE, app, env, "U1", f"{app}/{env}", NOW)
        any_store.set_block(block, Event(None, app, env, "U1", NOW, Frozen(block.reason)))
        return block

    own, app_wide, everywhere = freeze("myapp", "prod"), freeze("myapp", ALL), freeze(ALL, ALL)
    assert any_store.blocks("myapp", "prod") == [own, app_wide, everywhere]
    assert any_store.blocks("myapp", "staging") == [app_wide, everywhere]
    assert any_store.blocks("other", "prod") == [everywhere]
    assert any_store.blocks("myapp", ALL) == [app_wide, everywhere]
    assert any_store.blocks(ALL, ALL) == [everywhere]
    assert any_store.clear_block(BlockKind.FREEZE, ALL, ALL,
                                 Event(None, ALL, ALL, "U1", NOW, Frozen("x")))
    assert any_store.blocks("other", "prod") == []
