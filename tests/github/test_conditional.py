"""Conditional requests: ETag and Last-Modified on GETs, 304 without a body on a match, and a
304 spends nothing from the rate limit (GitHub's documented behaviour)."""

from __future__ import annotations

import requests
from github import Github

from sandbox.github import GitHubEmulator
from sandbox.github.clock import ManualClock
from tests.github.conftest import ALICE, BOB, WorkTree


def _get(emulator: GitHubEmulator, path: str, token: str = ALICE.token,
         **headers: str) -> requests.Response:
    return requests.get(f"{emulator.url}{path}", timeout=5,
                        headers={"Authorization": f"token {token}", **headers})


def test_a_matching_if_none_match_is_304_without_body_and_costs_nothing(
    emulator: GitHubEmulator, work: WorkTree
) -> None:
    first = _get(emulator, "/repos/acme/myapp/branches/dev")
    etag = first.headers["ETag"]
    assert etag.startswith('W/"') and first.headers["Last-Modified"].endswith("GMT")
    assert "Authorization" in first.headers["Vary"]
    used = int(first.headers["x-ratelimit-used"])
    again = _get(emulator, "/repos/acme/myapp/branches/dev", **{"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag
    assert int(again.headers["x-ratelimit-used"]) == used  # not counted
    assert int(again.headers["x-ratelimit-remaining"]) == 5000 - used
    work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    moved = _get(emulator, "/repos/acme/myapp/branches/dev", **{"If-None-Match": etag})
    assert moved.status_code == 200 and moved.headers["ETag"] != etag
    assert int(moved.headers["x-ratelimit-used"]) == used + 1


def test_if_modified_since_is_304_until_the_resource_changes(
    emulator: GitHubEmulator, clock: ManualClock, work: WorkTree
) -> None:
    first = _get(emulator, "/repos/acme/myapp/commits/dev/status")
    stamp = first.headers["Last-Modified"]
    clock.advance(60)
    assert _get(emulator, "/repos/acme/myapp/commits/dev/status",
                **{"If-Modified-Since": stamp}).status_code == 304
    emulator.set_status(work.branch("scratch", "dev"), "ci", "pending")  # same commit as dev
    changed = _get(emulator, "/repos/acme/myapp/commits/dev/status",
                   **{"If-Modified-Since": stamp})
    assert changed.status_code == 200
    assert changed.json()["statuses"][0]["context"] == "ci"
    assert changed.headers["Last-Modified"] != stamp


def test_pygithub_update_sees_304_as_unchanged_and_a_change_as_changed(
    as_alice: Github, emulator: GitHubEmulator, work: WorkTree
) -> None:
    work.commit("dev", {"app.txt": "v2\n"}, "Bump app")
    pr = as_alice.get_repo("acme/myapp").create_pull(base="staging", head="dev", title="t")
    fresh = as_alice.get_repo("acme/myapp").get_pull(pr.number)
    before = as_alice.rate_limiting[0]
    assert fresh.update() is False  # 304
    assert as_alice.rate_limiting[0] == before
    pr.edit(title="Promote dev")
    assert fresh.update() is True
    assert fresh.title == "Promote dev"


def test_etags_differ_per_caller(emulator: GitHubEmulator) -> None:
    alice = _get(emulator, "/repos/acme/myapp/branches/dev").headers["ETag"]
    bob = _get(emulator, "/repos/acme/myapp/branches/dev", token=BOB.token)
    assert bob.headers["ETag"] != alice
    refused = _get(emulator, "/repos/acme/myapp/branches/dev", token=BOB.token,
                   **{"If-None-Match": alice})
    assert refused.status_code == 200
