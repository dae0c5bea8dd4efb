"""Fixtures for the GitHub emulator's contract tests: a small real bare repo and PyGithub clients.

Each test gets its own bare repository (branches main, dev, staging, prod at one commit),
a work clone to make commits with plain git, and the emulator serving it on port 0 on a
`ManualClock` the test steps (`settle` lets GitHub finish computing mergeability).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from github import Auth, Github

from sandbox.github import GitHubEmulator, GitHubUser
from sandbox.github.clock import ManualClock

OWNER, REPO = "acme", "myapp"
ALICE = GitHubUser("alice", "tok-alice", name="Alice Dev", email="alice@example.com")
BOB = GitHubUser("bob", "tok-bob", name="Bob Reviewer")
CAROL = GitHubUser("carol", "tok-carol")
BOT = GitHubUser("promotebot[bot]", "tok-bot", type="Bot")
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Alice Dev",
    "GIT_AUTHOR_EMAIL": "alice@example.com",
    "GIT_COMMITTER_NAME": "Alice Dev",
    "GIT_COMMITTER_EMAIL": "alice@example.com",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV, "HOME": str(cwd)}
    proc = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env=env, check=False
    )
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout.strip()


class WorkTree:
    """A clone of the bare repository used to make commits and push them (over the file path)."""

    def __init__(self, path: Path, remote: Path) -> None:
        self.path = path
        git(path.parent, "clone", "-q", str(remote), str(path))

    def commit(self, branch: str, files: dict[str, str | None], message: str) -> str:
        git(self.path, "fetch", "-q", "origin")
        git(self.path, "checkout", "-q", "-B", branch, f"origin/{branch}")
        for name, content in files.items():
            target = self.path / name
            if content is None:
                git(self.path, "rm", "-q", name)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
            git(self.path, "add", name)
        git(self.path, "commit", "-q", "-m", message)
        git(self.path, "push", "-q", "origin", f"{branch}:{branch}")
        return git(self.path, "rev-parse", "HEAD")

    def branch(self, name: str, start: str) -> str:
        git(self.path, "fetch", "-q", "origin")
        git(self.path, "push", "-q", "origin", f"origin/{start}:refs/heads/{name}")
        return git(self.path, "rev-parse", f"origin/{start}")


@pytest.fixture
def bare_repo(tmp_path: Path) -> Path:
    seed = tmp_path / "seed"
    seed.mkdir()
    git(seed, "init", "-q", "-b", "main")
    (seed / "base").mkdir()
    (seed / "base" / "deployment.yaml").write_text("replicas: 1\nimage: myapp:1.0.0\n")
    (seed / "README.md").write_text("myapp gitops\n")
    git(seed, "add", ".")
    git(seed, "commit", "-q", "-m", "Initial GitOps layout")
    for branch in ("dev", "staging", "prod"):
        git(seed, "branch", branch)
    bare = tmp_path / "myapp.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(bare))
    return bare


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emulator(bare_repo: Path, clock: ManualClock) -> Iterator[GitHubEmulator]:
    with GitHubEmulator(bare_repo, OWNER, REPO, [ALICE, BOB, CAROL, BOT], clock=clock) as emu:
        yield emu


def settle(emulator: GitHubEmulator) -> None:
    """Lets the emulator's clock pass the moment GitHub takes to compute mergeability."""
    clock = emulator.clock
    assert isinstance(clock, ManualClock)
    clock.advance(emulator.mergeability_delay)


@pytest.fixture
def work(tmp_path: Path, bare_repo: Path) -> WorkTree:
    return WorkTree(tmp_path / "work", bare_repo)


def client_for(emulator: GitHubEmulator, token: str) -> Github:
    """The real PyGithub against the emulator, failing fast (no retries, no throttling)."""
    return Github(
        auth=Auth.Token(token),
        base_url=emulator.url,
        retry=None,
        seconds_between_requests=0,
        seconds_between_writes=0,
    )


@pytest.fixture
def client(emulator: GitHubEmulator) -> Iterator[Callable[[GitHubUser], Github]]:
    made: list[Github] = []

    def make(user: GitHubUser) -> Github:
        g = client_for(emulator, user.token)
        made.append(g)
        return g

    yield make
    for g in made:
        g.close()


@pytest.fixture
def as_alice(client: Callable[[GitHubUser], Github]) -> Github:
    return client(ALICE)


@pytest.fixture
def as_bob(client: Callable[[GitHubUser], Github]) -> Github:
    return client(BOB)
