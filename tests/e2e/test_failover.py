"""Three `promotebot serve` processes on one real redis-server: the leader is killed (SIGKILL)
while its merge is in flight, and the promotion still ends with exactly one merge and exactly
one card, showing the final state; another replica took the lease and the dead one's env lock
was free for it without waiting a minute."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.world import World
from slackbot.models import State
from tests.e2e.replicas import kill_leader_mid_merge
from tests.redis_server import redis_server


@pytest.fixture
def own_redis() -> Iterator[str]:
    """A Redis of this test's own: `serve` keeps its keys under the default prefix."""
    with redis_server() as url:
        yield url


def test_killing_the_leader_mid_merge_ends_with_one_merge_and_one_final_card(
        tmp_path: Path, own_redis: str) -> None:
    with World(time_scale=60, pod_start_delay=3.0, workdir=tmp_path / "world") as world:
        outcome = kill_leader_mid_merge(world, own_redis, tmp_path, count=3)
    assert outcome.final.state is State.DEPLOYED, outcome.final.failure
    assert outcome.merges == 1
    assert outcome.cards == 1
    assert outcome.card_text.endswith("deployed")
    assert len(outcome.replicas_left) == 2
