"""git as a GitHub App with tokens that expire: the workspace clones at start-up, and a rollback
push two token lifetimes later still gets through (each git command carries a fresh token in a
header; none is kept in the remote URL or on disk). The emulated GitHub's clock is stepped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.github import GitHubEmulator, GitHubUser
from sandbox.github.clock import ManualClock
from sandbox.gitseed import commit_and_push, run_git, seed_repository
from slackbot.adapters.github import GitHubForge, github_client
from slackbot.adapters.workspace import GitWorkspace
from tests.github.appkeys import key_pair
from tests.github.clocks import EmulatorClock

APP_ID, INSTALLATION, LIFETIME = 90211, 4242002, 3600
REPO = "acme/myapp"
DANA = GitHubUser("dana", "ghp_sandbox_dana", "dana")


@pytest.fixture
def github(tmp_path: Path) -> Iterator[tuple[GitHubEmulator, ManualClock, str]]:
    clock = ManualClock()
    seeded = seed_repository(tmp_path / "myapp.git")
    private, public = key_pair()
    with GitHubEmulator(seeded.path, "acme", "myapp",
                        [DANA], clock=clock) as emulator:
        emulator.install_app(APP_ID, public, INSTALLATION, token_ttl_seconds=LIFETIME)
        yield emulator, clock, private


def test_a_rollback_push_two_token_lifetimes_after_start_up(
        github: tuple[GitHubEmulator, ManualClock, str], tmp_path: Path) -> None:
    emulator, clock, private = github
    seeded = tmp_path / "myapp.git"
    forge = GitHubForge(github_client(emulator.url, app_id=APP_ID, private_key=private,
                                      installation_id=INSTALLATION, fast=True),
                        clock=EmulatorClock(emulator), sleep=lambda s: None)
    root = tmp_path / "ws"
    workspace = GitWorkspace(forge.clone_url, forge.token, root=root, renew=forge.renew_token)
    assert emulator.installation is not None
    dana = emulator.authenticated_clone_url(DANA)
    good = commit_and_push(dana, "prod", {"a.txt": "good\n"}, "good", tmp_path / "dev1")
    # start-up: the bot clones and reads with its first installation token
    assert [c.sha for c in workspace.first_parent_history(REPO, "prod", 1)] == [good]
    first_token = forge.token()
    minted = emulator.installation.minted

    clock.advance(2 * LIFETIME + 60)  # two lifetimes later, the first token is long dead
    bad = commit_and_push(dana, "prod", {"a.txt": "bad\n"}, "bad", tmp_path / "dev2")
    sha = workspace.revert_to(REPO, "prod", good, "Roll back prod")

    git_dir = str(seeded)
    assert run_git("--git-dir", git_dir, "rev-parse", "refs/heads/prod") == sha
    assert run_git("--git-dir", git_dir, "rev-parse", f"{sha}^") == bad
    assert emulator.installation.minted > minted  # a new token was minted for the push
    # no token, old or new, is kept in the remote URL or anywhere in the clone
    for token in (first_token, forge.token()):
        assert token
        for path in root.rglob("*"):
            if path.is_file() and path.stat().st_size < 1_000_000:
                assert token.encode() not in path.read_bytes(), path
    for clone in root.iterdir():
        url = run_git("-C", str(clone), "remote", "get-url", "origin")
        assert "@" not in url and "ghs_" not in url
