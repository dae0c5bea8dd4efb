"""GitHub's guidance for one token, kept when many promotions write at once: mutating requests
one at a time and at least a second apart. PyGithub's own pacing (as production configures it)
sleeps each thread until a second after the last write, so threads that wait together then
write together; the adapter queues them. Measured where GitHub would see it: the arrivals of
the writes at the emulator."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sandbox.github import GitHubEmulator
from sandbox.github.clock import ManualClock
from slackbot.adapters.github import GitHubForge, github_client
from tests.github.conftest import ALICE, BOB

REPO = "acme/myapp"
WRITERS = 4


@pytest.fixture
def arrivals(bare_repo: Path, clock: ManualClock) -> Iterator[tuple[GitHubEmulator, list[float]]]:
    seen: list[float] = []
    lock = threading.Lock()

    def note(method: str, path: str) -> None:
        if method != "GET" and "/statuses/" in path:
            with lock:
                seen.append(time.time())  # PyGithub paces on the wall clock too

    with GitHubEmulator(bare_repo, "acme", "myapp", [ALICE, BOB], clock=clock) as emulator:
        emulator.before_request = note
        yield emulator, seen


def _write_at_once(forge: GitHubForge, sha: str) -> None:
    start = threading.Barrier(WRITERS)

    def write(i: int) -> None:
        start.wait(timeout=60)
        forge.api.send("POST", f"/repos/{REPO}/statuses/{sha}",
                       {"state": "pending", "context": f"writer-{i}"})

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(write, range(WRITERS)))


def _gaps(seen: list[float]) -> list[float]:
    ordered = sorted(seen)
    return [b - a for a, b in itertools.pairwise(ordered)]


def test_writes_from_many_threads_reach_github_one_a_second(
        arrivals: tuple[GitHubEmulator, list[float]]) -> None:
    emulator, seen = arrivals
    forge = GitHubForge(github_client(emulator.url, ALICE.token))  # production's pacing
    sha = forge.branch_head(REPO, "dev")
    forge.api.send("POST", f"/repos/{REPO}/statuses/{sha}",
                   {"state": "pending", "context": "first"})  # the last write, to pace from
    _write_at_once(forge, sha)
    assert len(seen) == WRITERS + 1
    assert min(_gaps(seen)) >= 1.0, _gaps(seen)


def test_without_the_queue_pygithub_lets_waiting_writes_go_together(
        arrivals: tuple[GitHubEmulator, list[float]]) -> None:
    """Why the queue exists: the same threads through PyGithub's pacing alone."""
    emulator, seen = arrivals
    forge = GitHubForge(github_client(emulator.url, ALICE.token), serial_writes=False)
    sha = forge.branch_head(REPO, "dev")
    forge.api.send("POST", f"/repos/{REPO}/statuses/{sha}",
                   {"state": "pending", "context": "first"})
    _write_at_once(forge, sha)
    assert len(seen) == WRITERS + 1
    assert min(_gaps(seen)) < 1.0, _gaps(seen)
