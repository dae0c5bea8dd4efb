"""The bot's GitHub adapter (PyGithub's Requester) against the emulator's primary rate limit, on
the emulator's stepped clock: answers are trusted longer once less than half the budget is
left (the polling slows), a spent budget is waited for until GitHub's reset with no request
sent meanwhile, and the reads go on after the reset."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from sandbox.github import GitHubEmulator
from sandbox.github.clock import ManualClock
from slackbot.adapters.github import GitHubForge, github_client
from slackbot.errors import RateLimited
from tests.github.clocks import EmulatorClock
from tests.github.conftest import ALICE, BOB

BUDGET, TRUST = 20, 10.0
REPO = "acme/myapp"


@pytest.fixture
def small(bare_repo: Path, clock: ManualClock) -> Iterator[GitHubEmulator]:
    with GitHubEmulator(bare_repo, "acme", "myapp", [ALICE, BOB], clock=clock,
                        rate_limit=BUDGET) as emulator:
        emulator.recording = True
        yield emulator


def _spend(emulator: GitHubEmulator) -> requests.Response:
    return requests.get(f"{emulator.url}/repos/{REPO}", timeout=5,
                        headers={"Authorization": f"token {ALICE.token}"})


def _sent(emulator: GitHubEmulator) -> int:
    return sum(1 for e in emulator.exchanges if e.path != "/rate_limit")


def test_polling_slows_when_the_budget_runs_low_and_stops_while_it_is_spent(
        small: GitHubEmulator, clock: ManualClock) -> None:
    forge = GitHubForge(github_client(small.url, ALICE.token, fast=True),
                        clock=EmulatorClock(small), trust_seconds=TRUST, sleep=lambda s: None)
    head = forge.branch_head(REPO, "dev")
    clock.advance(TRUST + 1)
    assert forge.branch_head(REPO, "dev") == head  # past the trust window: asked again (304)
    assert _sent(small) == 2
    for _ in range(BUDGET // 2 + 1):  # someone else spends the token's budget (304s are free)
        assert _spend(small).status_code == 200
    forge.compare(REPO, "staging", "dev")  # the bot learns what is left
    assert (forge.rate().remaining or 0) < BUDGET // 2
    # Less than half left: an answer older than the trust window is still trusted.
    before = _sent(small)
    clock.advance(TRUST + 1)
    assert forge.branch_head(REPO, "dev") == head
    assert _sent(small) == before
    while _spend(small).status_code == 200:  # the budget is spent
        pass
    # GitHub refuses: the bot waits until the reset.
    with pytest.raises(RateLimited) as limited:
        forge.branch_head(REPO, "staging")
    assert not limited.value.secondary
    reset = forge.rate().reset
    assert reset is not None and limited.value.until >= reset
    refused = _sent(small)
    for _ in range(3):  # during the wait nothing is sent at all
        with pytest.raises(RateLimited):
            forge.branch_head(REPO, "prod")
    assert _sent(small) == refused
    clock.advance(limited.value.until.timestamp() - clock.now() + 1)
    assert forge.branch_head(REPO, "prod")  # the budget is back
    assert _sent(small) == refused + 1
