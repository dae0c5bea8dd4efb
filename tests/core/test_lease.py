"""The leader lease on the real redis-server: one leader among replicas, a takeover when the
leader dies, a step-down that hands over at once, and a lost lease noticed on renewal."""

from __future__ import annotations

from slackbot.adapters.redis_store import RedisStore
from slackbot.lease import LeaderLease
from tests.waiting import wait_for


def lease(store: RedisStore, owner: str, log: list[str], ttl: float = 0.3) -> LeaderLease:
    return LeaderLease(store, owner, ttl_seconds=ttl, on_gain=lambda: log.append(f"+{owner}"),
                       on_lose=lambda: log.append(f"-{owner}"))


def test_exactly_one_replica_leads(store: RedisStore) -> None:
    log: list[str] = []
    replicas = [lease(store, f"r{i}", log, ttl=60) for i in range(5)]  # no load outlasts it
    results = [r.run_once() for r in replicas]
    assert results == [True, False, False, False, False]
    assert [r.run_once() for r in replicas] == [True, False, False, False, False]
    assert log == ["+r0"]


def test_a_dead_leaders_lease_expires_and_another_takes_over(store: RedisStore) -> None:
    log: list[str] = []
    first, second = lease(store, "a", log), lease(store, "b", log)
    assert first.run_once() and not second.run_once()
    # "a" dies: it renews no more
    wait_for(second.run_once, "the dead leader's lease to expire")
    assert second.leading
    assert first.run_once() is False  # a late renewal finds the lease gone: it steps down
    assert log == ["+a", "+b", "-a"]


def test_stepping_down_hands_over_at_once(store: RedisStore) -> None:
    log: list[str] = []
    first, second = lease(store, "a", log, ttl=30), lease(store, "b", log, ttl=30)
    first.start()
    assert first.leading and not second.run_once()
    first.stop()
    assert second.run_once()
    assert log == ["+a", "-a", "+b"]
