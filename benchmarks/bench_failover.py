"""Figures of a leader killed mid-merge: three `promotebot serve` processes on one real
redis-server (lease 3 s), a staging promotion whose merge is in flight on GitHub when the
leader gets SIGKILL (tests/e2e/replicas.py). Prints, per round, the time from the kill to
another replica holding the lease, to the record leaving `merging` (the dead holder's env
lock free), and to deployed; the merge commits the promotion made and the cards it has.

Run: .venv/bin/python -m benchmarks.bench_failover [rounds]   (prints figures; asserts nothing)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from sandbox.world import World
from tests.e2e.replicas import LEASE_SECONDS, kill_leader_mid_merge
from tests.redis_server import redis_server


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    print("| round | lease (s) | handover (s) | merging resumed (s) | deployed after the kill "
          "(s) | merges | cards | final state |")
    print("|---|---|---|---|---|---|---|---|")
    for n in range(1, rounds + 1):
        with tempfile.TemporaryDirectory(prefix="bench-failover-") as tmp, \
                redis_server(persistence=True) as url, \
                World(time_scale=60, pod_start_delay=3.0, workdir=Path(tmp) / "world") as world:
            outcome = kill_leader_mid_merge(world, url, Path(tmp), count=3)
        print(f"| {n} | {LEASE_SECONDS:.0f} | {outcome.handover_seconds:.1f} | "
              f"{outcome.resumed_seconds:.1f} | {outcome.finished_seconds:.1f} | "
              f"{outcome.merges} | {outcome.cards} | {outcome.final.state.value} |", flush=True)


if __name__ == "__main__":
    main()
