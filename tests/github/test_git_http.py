"""Plain git over smart HTTP: clone from the emulator, push to it, see the push via the API."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from github import Github

from sandbox.github import GitHubEmulator
from tests.github.conftest import ALICE, BOB, git


def test_clone_and_push_over_http_land_in_the_bare_repo(
    emulator: GitHubEmulator, as_alice: Github, tmp_path: Path, bare_repo: Path
) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "-b", "dev", emulator.clone_url, str(clone))
    assert (clone / "base" / "deployment.yaml").read_text().startswith("replicas: 1")
    (clone / "app.txt").write_text("pushed over http\n")
    git(clone, "add", "app.txt")
    git(clone, "commit", "-q", "-m", "Developer pushes to dev")
    pushed = git(clone, "rev-parse", "HEAD")
    git(clone, "push", "-q", "origin", "dev")
    assert git(bare_repo, "rev-parse", "refs/heads/dev") == pushed
    repo = as_alice.get_repo("acme/myapp")
    assert repo.get_branch("dev").commit.sha == pushed
    assert repo.compare("staging", "dev").ahead_by == 1
    pr = repo.create_pull(base="staging", head="dev", title="Promote")
    assert pr.head.sha == pushed
    git(clone, "push", "-q", "origin", "dev:feature/new")
    assert repo.get_branch("feature/new").commit.sha == pushed


def test_push_after_an_api_merge_fetches_the_merge_commit(
    emulator: GitHubEmulator, as_alice: Github, tmp_path: Path
) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", emulator.clone_url, str(clone))
    git(clone, "checkout", "-q", "dev")
    (clone / "x.txt").write_text("x\n")
    git(clone, "add", "x.txt")
    git(clone, "commit", "-q", "-m", "x")
    git(clone, "push", "-q", "origin", "dev")
    merged = (
        as_alice.get_repo("acme/myapp").create_pull(base="staging", head="dev", title="t").merge()
    )
    git(clone, "fetch", "-q", "origin")
    assert git(clone, "rev-parse", "origin/staging") == merged.sha


def test_push_requires_a_token_when_configured(bare_repo: Path, tmp_path: Path) -> None:
    with GitHubEmulator(bare_repo, "acme", "myapp", [ALICE, BOB], push_requires_auth=True) as emu:
        clone = tmp_path / "clone"
        git(tmp_path, "clone", "-q", "-b", "dev", emu.clone_url, str(clone))
        (clone / "a.txt").write_text("a\n")
        git(clone, "add", "a.txt")
        git(clone, "commit", "-q", "-m", "a")
        with pytest.raises(AssertionError, match="failed"):
            git(clone, "push", "-q", "origin", "dev")
        git(clone, "push", "-q", emu.authenticated_clone_url(BOB), "dev")
        assert git(bare_repo, "rev-parse", "refs/heads/dev") == git(clone, "rev-parse", "HEAD")


def test_unknown_repository_path_is_not_served(emulator: GitHubEmulator, tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="failed"):
        git(tmp_path, "clone", "-q", f"{emulator.url}/acme/other.git", str(tmp_path / "other"))


def test_smart_http_answers_follow_gits_http_protocol(bare_repo: Path) -> None:
    """gitprotocol-http: the advertisement's content type, its service line, no caching, and a
    Basic challenge (git then retries with the remote URL's credentials)."""
    with GitHubEmulator(bare_repo, "acme", "myapp", [ALICE], push_requires_auth=True) as emu:
        refs = requests.get(f"{emu.clone_url}/info/refs", params={"service": "git-upload-pack"},
                            timeout=5)
        assert refs.status_code == 200
        assert refs.headers["Content-Type"] == "application/x-git-upload-pack-advertisement"
        assert refs.content.startswith(b"001e# service=git-upload-pack\n0000")
        assert "no-cache" in refs.headers["Cache-Control"]
        challenged = requests.get(f"{emu.clone_url}/info/refs", timeout=5,
                                  params={"service": "git-receive-pack"})
        assert challenged.status_code == 401
        assert challenged.headers["WWW-Authenticate"] == 'Basic realm="GitHub"'
        pushing = requests.get(f"{emu.clone_url}/info/refs", timeout=5,
                               params={"service": "git-receive-pack"}, auth=("alice", ALICE.token))
        assert pushing.headers["Content-Type"] == "application/x-git-receive-pack-advertisement"
        wrong = requests.get(f"{emu.clone_url}/info/refs", timeout=5,
                             params={"service": "git-upload-pack"}, auth=("alice", "expired"))
        assert wrong.status_code == 401  # a bad token never passes as anonymous
        assert wrong.content.startswith(b"Invalid username or token.")
