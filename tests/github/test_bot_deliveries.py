"""The bot's GitHub adapter and the deliveries that follow a change: the echo of its own body
write costs no read, a person's edit of the same body is read again, and a review leaves the
pull request it reviews trusted (each read it saves is one request of the hourly budget)."""

from __future__ import annotations

from typing import Any

import requests
from github import Github

from sandbox.github import GitHubEmulator
from slackbot import webhooks
from slackbot.adapters.github import GitHubForge, github_client
from tests.github.clocks import EmulatorClock
from tests.github.conftest import ALICE, BOB, WorkTree
from tests.github.test_lists_and_deliveries import Receiver, receiver  # noqa: F401 (fixture)

REPO = "acme/myapp"
TRUST = 600.0  # webhooks configured: the safety poll's interval


def _gets(emulator: GitHubEmulator, number: int) -> int:
    return sum(1 for e in emulator.exchanges
               if e.method == "GET" and e.path == f"/repos/{REPO}/pulls/{number}")


def _forge(emulator: GitHubEmulator, work: WorkTree) -> GitHubForge:
    """The bot's adapter, with something on dev to promote, the emulator counting requests."""
    work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    emulator.recording = True
    return GitHubForge(github_client(emulator.url, ALICE.token, fast=True),
                       clock=EmulatorClock(emulator), trust_seconds=TRUST, sleep=lambda s: None)


def _deliver(forge: GitHubForge, hooked: Receiver, emulator: GitHubEmulator,
             seen: int) -> int:
    """Hand the adapter every delivery since `seen` as the bot's webhook route does."""
    assert emulator.hooks.wait_idle()
    for event, payload in hooked.events[seen:]:
        change = webhooks.parse(event, payload)
        if change is not None:
            forge.refresh(REPO, change)
    return len(hooked.events)


def test_the_echo_of_its_own_body_write_costs_no_read_and_a_persons_edit_is_read(
        as_alice: Github, emulator: GitHubEmulator, receiver: Receiver,  # noqa: F811
        work: WorkTree) -> None:
    forge = _forge(emulator, work)
    pull = forge.open_pull(REPO, "staging", "dev", "P-1: promote", "why")
    seen = _deliver(forge, receiver, emulator, 0)
    forge.update_pull_body(REPO, pull.number, "why\n\nstatus: waiting")
    seen = _deliver(forge, receiver, emulator, seen)
    edits: list[dict[str, Any]] = [p for e, p in receiver.events if p.get("action") == "edited"]
    assert len(edits) == 1  # GitHub delivered the bot's own edit
    before = _gets(emulator, pull.number)
    assert forge.get_pull(REPO, pull.number).body == "why\n\nstatus: waiting"
    assert _gets(emulator, pull.number) == before  # the echo told nothing new: no request

    requests.patch(f"{emulator.url}/repos/{REPO}/pulls/{pull.number}", timeout=5,
                   json={"body": "why\n\nrollback plan: revert"},
                   headers={"Authorization": f"token {BOB.token}"}).raise_for_status()
    _deliver(forge, receiver, emulator, seen)
    assert forge.get_pull(REPO, pull.number).body == "why\n\nrollback plan: revert"
    assert _gets(emulator, pull.number) == before + 1  # a person's edit: read again


def test_a_review_leaves_the_pull_request_trusted_and_its_reviews_read_again(
        as_alice: Github, as_bob: Github, emulator: GitHubEmulator,
        receiver: Receiver, work: WorkTree) -> None:  # noqa: F811
    forge = _forge(emulator, work)
    pull = forge.open_pull(REPO, "staging", "dev", "P-1: promote", "why")
    assert forge.reviews(REPO, pull.number) == []
    seen = _deliver(forge, receiver, emulator, 0)
    forge.get_pull(REPO, pull.number)  # read once after its `opened` delivery
    as_bob.get_repo(REPO).get_pull(pull.number).create_review(event="APPROVE")
    _deliver(forge, receiver, emulator, seen)
    before = _gets(emulator, pull.number)
    forge.get_pull(REPO, pull.number)
    assert _gets(emulator, pull.number) == before
    assert [r.state for r in forge.reviews(REPO, pull.number)] == ["APPROVED"]
