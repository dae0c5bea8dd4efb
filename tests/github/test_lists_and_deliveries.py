"""Statuses and check runs paginate as GitHub's do (a client reading only page 1 misses
entries), and a title or body change is delivered as pull_request `edited` with the old
values, an approval made stale as pull_request_review `dismissed`."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
import requests
from github import Github

from sandbox.github import GitHubEmulator
from sandbox.httpserver import BackgroundServer, QuietHandler
from tests.github.conftest import ALICE, WorkTree


class Receiver:
    """A webhook endpoint that keeps every delivery."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.targets: set[str] = set()
        self.lock = threading.Lock()
        receiver = self

        class Handler(QuietHandler):
            owner: ClassVar[Receiver] = receiver

            def do_POST(self) -> None:
                body = json.loads(self.read_body())
                with self.owner.lock:
                    self.owner.events.append((self.headers["X-GitHub-Event"], body))
                    self.owner.targets.add(self.headers["X-GitHub-Hook-Installation-Target-ID"])
                self.send_json(202, {})

        self.server = BackgroundServer(Handler)


@pytest.fixture
def receiver(emulator: GitHubEmulator) -> Iterator[Receiver]:
    hooked = Receiver()
    hooked.server.start()
    emulator.webhook_url = hooked.server.url
    try:
        yield hooked
    finally:
        hooked.server.stop()


def test_statuses_and_check_runs_paginate_by_thirty(
    as_alice: Github, emulator: GitHubEmulator, work: WorkTree
) -> None:
    sha = work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    for n in range(35):
        emulator.set_status(sha, f"ctx-{n:02d}", "success")
        emulator.set_check(sha, f"check-{n:02d}", "success")
    commit = as_alice.get_repo("acme/myapp").get_commit(sha)
    combined = commit.get_combined_status()
    assert combined.total_count == 35
    assert len(combined.statuses) == 30  # PyGithub reads one page of the combined status
    page = requests.get(f"{commit.url}/status", timeout=5, params={"page": 2},
                        headers={"Authorization": f"token {ALICE.token}"})
    assert len(page.json()["statuses"]) == 5 and 'rel="prev"' in page.headers["Link"]
    assert len(list(commit.get_statuses())) == 35  # follows the Link header
    raw = requests.get(f"{commit.url}/check-runs", timeout=5,
                       headers={"Authorization": f"token {ALICE.token}"})
    assert (raw.json()["total_count"], len(raw.json()["check_runs"])) == (35, 30)
    assert 'rel="next"' in raw.headers["Link"]
    assert len(list(commit.get_check_runs())) == 35
    everything = requests.get(f"{commit.url}/check-runs", timeout=5, params={"per_page": 100},
                              headers={"Authorization": f"token {ALICE.token}"})
    assert len(everything.json()["check_runs"]) == 35 and "Link" not in everything.headers


def test_editing_title_or_body_delivers_edited_with_the_old_values(
    as_alice: Github, emulator: GitHubEmulator, receiver: Receiver, work: WorkTree
) -> None:
    work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    pr = as_alice.get_repo("acme/myapp").create_pull(base="staging", head="dev",
                                                     title="Promote", body="why")
    pr.edit(title="Promote dev to staging")
    pr.edit(body="why\n\nrollback plan: revert")
    pr.edit(body="why\n\nrollback plan: revert")  # no change, no delivery
    assert emulator.hooks.wait_idle()
    edited = [p for e, p in receiver.events if e == "pull_request" and p["action"] == "edited"]
    assert [p["changes"] for p in edited] == [
        {"title": {"from": "Promote"}},
        {"body": {"from": "why"}},
    ]
    assert edited[1]["pull_request"]["body"] == "why\n\nrollback plan: revert"
    assert edited[0]["sender"]["login"] == "alice"
    assert receiver.targets == {str(edited[0]["repository"]["id"])}


def test_a_stale_approval_is_dismissed_and_delivered(
    as_alice: Github, as_bob: Github, emulator: GitHubEmulator, receiver: Receiver,
    work: WorkTree
) -> None:
    work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    emulator.protect_branch("staging", required_approving_review_count=1,
                            dismiss_stale_reviews=True)
    number = as_alice.get_repo("acme/myapp").create_pull(base="staging", head="dev",
                                                         title="t").number
    as_bob.get_repo("acme/myapp").get_pull(number).create_review(event="APPROVE")
    work.commit("dev", {"app.txt": "v3\n"}, "New push")
    assert [r.state for r in as_alice.get_repo("acme/myapp").get_pull(number).get_reviews()] \
        == ["DISMISSED"]
    assert emulator.hooks.wait_idle()
    actions = [(e, p["action"]) for e, p in receiver.events if e.startswith("pull_request")]
    assert actions == [("pull_request", "opened"), ("pull_request_review", "submitted"),
                       ("pull_request", "synchronize"), ("pull_request_review", "dismissed")]
    dismissed = receiver.events[-1][1]
    assert dismissed["review"]["state"] == "dismissed"
