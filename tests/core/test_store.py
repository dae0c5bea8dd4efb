"""The Redis store against a real redis-server, and the same contract against the embedded Redis."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import redis

from slackbot.adapters.redis_store import RedisStore, open_redis
from slackbot.errors import ConcurrentUpdate, InvalidTransition, StaleFence
from slackbot.events import (
    Cancelled,
    Event,
    Facts,
    Frozen,
    HoldPlaced,
    PullOpened,
    Requested,
    Unfrozen,
)
from slackbot.models import Block, BlockKind, Kind, Promotion, QueueEntry, State
from slackbot.pipeline import ALL
from slackbot.ports import EnvRecords, Fence
from tests.waiting import wait_for

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["redis-server", "embedded"])
def any_store(request: pytest.FixtureRequest, redis_url: str, prefix: str) -> RedisStore:
    client = open_redis(redis_url if request.param == "redis-server" else None)
    return RedisStore(client, prefix=prefix)


def record(store: RedisStore, env: str = "staging") -> Promotion:
    return Promotion(
        id=store.next_id(), kind=Kind.PROMOTION, app="myapp", env=env, source_env="dev",
        source_branch="dev", target_branch=env, requested_by="U1", requested_at=NOW,
        head_sha="a" * 40,
    )


FACTS: dict[str, Facts] = {
    "requested": Requested("a" * 40),
    "pr_opened": PullOpened(1, "https://github.test/acme/myapp/pull/1"),
    "cancelled": Cancelled(),
}


def event(kind: str, p: Promotion) -> Event:
    return Event(p.id, p.app, p.env, "U1", NOW, FACTS.get(kind, HoldPlaced(kind)))


def created(store: RedisStore, env: str = "staging") -> Promotion:
    p = record(store, env)
    return store.create(p, event("requested", p))


def race(n: int, work: Callable[[int], object]) -> tuple[list[object], list[BaseException]]:
    barrier = threading.Barrier(n)
    wins: list[object] = []
    losses: list[BaseException] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        try:
            result = work(i)
        except (ConcurrentUpdate, StaleFence) as exc:
            with lock:
                losses.append(exc)
        else:
            with lock:
                wins.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return wins, losses


def test_create_stores_a_live_record_with_history_and_audit(any_store: RedisStore) -> None:
    p = created(any_store)
    assert any_store.get(p.id) == p
    assert any_store.live("myapp", "staging") == p
    assert [r.id for r in any_store.live_all()] == [p.id]
    assert [r.id for r in any_store.history("myapp", "staging")] == [p.id]
    assert [e.kind for e in any_store.events()] == ["requested"]


def test_transition_moves_state_and_bumps_version(any_store: RedisStore) -> None:
    p = created(any_store)
    q = any_store.transition(p, event("pr_opened", p), State.PR_OPEN, pr_number=7)
    assert (q.state, q.version, q.pr_number) == (State.PR_OPEN, 2, 7)
    assert any_store.get(p.id) == q
    assert [e.kind for e in any_store.events(p.id)] == ["requested", "pr_opened"]


def test_illegal_transition_raises_and_changes_nothing(any_store: RedisStore) -> None:
    p = created(any_store)
    with pytest.raises(InvalidTransition):
        any_store.transition(p, event("deployed", p), State.DEPLOYED)
    assert any_store.get(p.id) == p
    assert len(any_store.events(p.id)) == 1


def test_final_state_frees_the_env(any_store: RedisStore) -> None:
    p = created(any_store)
    any_store.transition(p, event("cancelled", p), State.CANCELLED)
    assert any_store.live("myapp", "staging") is None
    assert any_store.live_all() == []
    assert any_store.history("myapp", "staging")[0].state is State.CANCELLED


def test_stale_version_loses(any_store: RedisStore) -> None:
    p = created(any_store)
    any_store.transition(p, event("pr_opened", p), State.PR_OPEN)
    with pytest.raises(ConcurrentUpdate):
        any_store.transition(p, event("cancelled", p), State.CANCELLED)


def test_twenty_writers_racing_on_one_transition_exactly_one_wins(any_store: RedisStore) -> None:
    p = created(any_store)
    wins, losses = race(20, lambda i: any_store.transition(
        p, Event(p.id, "myapp", "staging", f"U{i}", NOW, FACTS["pr_opened"]), State.PR_OPEN,
        pr_number=i))
    assert len(wins) == 1 and len(losses) == 19
    stored = any_store.get(p.id)
    assert stored is not None and stored.version == 2
    assert stored.pr_number == wins[0].pr_number  # type: ignore[attr-defined]
    assert [e.kind for e in any_store.events(p.id)] == ["requested", "pr_opened"]


def test_twenty_requests_racing_for_one_env_create_one_record(any_store: RedisStore) -> None:
    candidates = [record(any_store) for _ in range(20)]
    wins, losses = race(20, lambda i: any_store.create(candidates[i],
                                                       event("requested", candidates[i])))
    assert len(wins) == 1 and len(losses) == 19
    assert any_store.live("myapp", "staging") == wins[0]
    assert len(any_store.history("myapp", "staging")) == 1


def test_lock_is_exclusive_and_released_by_its_owner_only(any_store: RedisStore) -> None:
    first = any_store.acquire("myapp", "prod", "replica-a", 10_000)
    assert first is not None
    assert any_store.acquire("myapp", "prod", "replica-b", 10_000) is None
    assert any_store.acquire("myapp", "staging", "replica-b", 10_000) is not None
    impostor = type(first)("myapp", "prod", "replica-b", first.token)
    assert any_store.release(impostor) is False
    assert any_store.release(first) is True
    assert any_store.acquire("myapp", "prod", "replica-b", 10_000) is not None


def test_lock_whose_owner_died_expires(any_store: RedisStore) -> None:
    dead = any_store.acquire("myapp", "prod", "crashed-replica", 200)
    assert dead is not None
    assert any_store.acquire("myapp", "prod", "replica-b", 10_000) is None
    fresh = wait_for(lambda: any_store.acquire("myapp", "prod", "replica-b", 10_000),
                     "the dead owner's lock to expire")
    assert fresh.token > dead.token


def test_stale_fencing_token_is_refused(any_store: RedisStore) -> None:
    p = created(any_store, "prod")
    old = any_store.acquire("myapp", "prod", "slow-replica", 100)
    assert old is not None
    time.sleep(0.25)  # the slow replica pauses past its lock's expiry
    new = any_store.acquire("myapp", "prod", "replica-b", 10_000)
    assert new is not None and new.token > old.token
    with pytest.raises(StaleFence):
        any_store.transition(p, event("pr_opened", p), State.PR_OPEN, fence=old)
    with pytest.raises(StaleFence):
        any_store.check_fence(old)
    assert any_store.get(p.id) == p
    moved = any_store.transition(p, event("pr_opened", p), State.PR_OPEN, fence=new)
    assert moved.state is State.PR_OPEN


def test_lock_extend_keeps_it_alive(any_store: RedisStore) -> None:
    fence = any_store.acquire("myapp", "prod", "a", 300)
    assert fence is not None
    for _ in range(4):  # each extension gives it its whole time to live again
        assert any_store.extend(fence, 60_000)
    any_store.check_fence(fence)
    assert any_store.acquire("myapp", "prod", "b", 300) is None
    assert not any_store.extend(Fence("myapp", "prod", "b", fence.token), 60_000)


def test_idempotency_key_is_claimed_once(any_store: RedisStore) -> None:
    wins, _ = race(10, lambda i: any_store.claim_once("slack:action:123") or None)
    assert wins.count(True) == 1
    assert any_store.claim_once("slack:action:456") is True


def test_audit_stream_is_append_only_and_ordered(any_store: RedisStore) -> None:
    for i in range(5):
        any_store.append_event(Event(None, "myapp", "prod", "U1", NOW, HoldPlaced(f"e{i}")))
    assert [e.facts for e in any_store.events()] == [HoldPlaced(f"e{i}") for i in range(5)]


def test_history_lists_newest_first(any_store: RedisStore) -> None:
    ids = []
    for minute in range(3):
        p = record(any_store).replace(requested_at=NOW.replace(minute=minute))
        p = any_store.create(p, event("requested", p))
        any_store.transition(p, event("cancelled", p), State.CANCELLED)
        ids.append(p.id)
    assert [r.id for r in any_store.history("myapp", "staging")] == ids[::-1]


def test_blocks_are_set_listed_and_cleared(any_store: RedisStore) -> None:
    block = Block(BlockKind.FREEZE, "myapp", "prod", "U1", "release week", NOW)
    any_store.set_block(block, Event(None, "myapp", "prod", "U1", NOW, Frozen("release week")))
    assert any_store.blocks("myapp", "prod") == [block]
    assert any_store.clear_block(BlockKind.FREEZE, "myapp", "prod",
                                 Event(None, "myapp", "prod", "U1", NOW, Unfrozen()))
    assert any_store.blocks("myapp", "prod") == []
    assert [e.kind for e in any_store.events()] == ["frozen", "unfrozen"]


def test_real_redis_is_a_separate_server_from_the_machines(redis_url: str) -> None:
    # The suite's own redis-server, never the machine's 6379.
    assert not redis_url.startswith("redis://127.0.0.1:6379")
    assert redis.Redis.from_url(redis_url).ping()


def test_pace_lets_one_call_go_then_says_how_long_the_next_waits(any_store: RedisStore) -> None:
    assert any_store.pace("post:C1", 60_000) == 0
    wait = any_store.pace("post:C1", 60_000)
    assert 0 < wait <= 60_000
    assert any_store.pace("post:C2", 60_000) == 0  # each key its own pace


def test_a_claim_is_held_by_one_owner_until_let_go(any_store: RedisStore) -> None:
    wins, _ = race(10, lambda i: f"owner{i}"
                   if any_store.claim_key("card:7", f"owner{i}", 60_000) else None)
    held = [w for w in wins if w is not None]
    assert len(held) == 1
    holder = str(held[0])
    assert not any_store.unclaim_key("card:7", "someone-else")
    assert not any_store.claim_key("card:7", "someone-else", 60_000)
    assert any_store.unclaim_key("card:7", holder)
    assert any_store.claim_key("card:7", "someone-else", 60_000)


def test_notices_due_are_kept_until_cleared(any_store: RedisStore) -> None:
    any_store.mark_notice_due(3)
    any_store.mark_notice_due(1)
    any_store.mark_notice_due(3)
    assert any_store.notices_due() == [1, 3]
    any_store.clear_notice_due(3)
    assert any_store.notices_due() == [1]


def test_env_records_reads_what_live_blocks_and_queue_read_in_one_go(
        any_store: RedisStore) -> None:
    staging = created(any_store, "staging")
    finished = created(any_store, "prod")
    any_store.transition(finished, event("cancelled", finished), State.CANCELLED)
    any_store.set_block(Block(BlockKind.FREEZE, "myapp", "prod", "U1", "release week", NOW),
                        Event(None, "myapp", "prod", "U1", NOW, Frozen("release week")))
    any_store.set_block(Block(BlockKind.FREEZE, "myapp", ALL, "U2", "every env", NOW),
                        Event(None, "myapp", ALL, "U2", NOW, Frozen("every env")))
    for user in ("U3", "U4"):
        any_store.enqueue(QueueEntry("myapp", "staging", user, NOW))
    envs = ["dev", "staging", "prod"]
    found = any_store.env_records("myapp", envs)
    assert found == [EnvRecords(any_store.live("myapp", env), tuple(any_store.blocks("myapp", env)),
                                tuple(any_store.queue("myapp", env))) for env in envs]
    dev, staged, prod = found
    assert dev == EnvRecords(None, (Block(BlockKind.FREEZE, "myapp", ALL, "U2", "every env",
                                          NOW),), ())
    assert staged.live is not None and staged.live.id == staging.id
    assert [e.user for e in staged.queue] == ["U3", "U4"]
    assert prod.live is None  # its record finished: not live
    assert [b.reason for b in prod.blocks] == ["release week", "every env"]


class CountingConnection(redis.Connection):
    """A redis-py connection that counts what it sends: one send is one round trip."""

    sent = 0

    def send_packed_command(self, command: object, check_health: bool = True) -> None:
        type(self).sent += 1
        super().send_packed_command(command, check_health)  # type: ignore[arg-type]


def test_live_all_and_history_read_their_records_in_one_round_trip(
        redis_url: str, prefix: str) -> None:
    """A tick and every webhook read every live record; at 200 live records, one round trip
    each was 200 (over a network, a tenth of a second per webhook)."""
    pool = redis.ConnectionPool.from_url(redis_url, decode_responses=True,
                                         connection_class=CountingConnection)
    store = RedisStore(redis.Redis(connection_pool=pool), prefix=prefix)
    made = [created(store, env) for env in ("dev", "staging", "prod", "qa", "perf")]
    before = CountingConnection.sent
    assert [p.id for p in store.live_all()] == [p.id for p in made]
    assert CountingConnection.sent - before == 2  # the live set, then every record
    ended = []
    for _ in range(3):
        canary = created(store, "canary")
        store.transition(canary, event("cancelled", canary), State.CANCELLED)
        ended.append(canary.id)
    before = CountingConnection.sent
    assert [p.id for p in store.history("myapp", "canary")] == ended[::-1]
    assert CountingConnection.sent - before == 2
