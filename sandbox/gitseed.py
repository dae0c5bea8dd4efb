"""Creates the bare git repository the emulated GitHub and the Flux simulator both serve from.

The repository holds the example app content (examples/gitops/apps) on the dev, staging and
prod branches at one initial commit, so the three environments start identical and deployable.
It uses the real git CLI, so plain `git clone <path>` and `git push` work against it. This
module must not know about Flux, GitHub or the cluster: it only makes the repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples" / "gitops"
EXAMPLE_APPS_DIR = EXAMPLES_DIR / "apps"
ENVIRONMENTS: tuple[str, ...] = ("dev", "staging", "prod")
SEED_AUTHOR = ("promotebot sandbox", "sandbox@promotebot.invalid")


@dataclass(frozen=True)
class SeededRepo:
    """Where the seeded bare repository is and what its branches point at."""

    path: Path
    sha: str
    branches: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """A file:// URL for git clients (Flux objects need http(s); see sandbox.cluster)."""
        return self.path.as_uri()


def git_env() -> dict[str, str]:
    """An environment that makes git ignore the machine's global and system configuration."""
    env = dict(os.environ)
    env.update(
        {
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_AUTHOR_NAME": SEED_AUTHOR[0],
            "GIT_AUTHOR_EMAIL": SEED_AUTHOR[1],
            "GIT_COMMITTER_NAME": SEED_AUTHOR[0],
            "GIT_COMMITTER_EMAIL": SEED_AUTHOR[1],
            "GIT_TERMINAL_PROMPT": "0",
        }
    )
    return env


def run_git(*args: str, cwd: Path | None = None) -> str:
    """Runs git and returns its stripped stdout; raises CalledProcessError (with stderr)."""
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=git_env(),
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def seed_repository(
    dest: str | Path,
    *,
    content: str | Path = EXAMPLE_APPS_DIR,
    content_prefix: str = "apps",
    branches: Sequence[str] = ENVIRONMENTS,
    default_branch: str | None = None,
    message: str = "Initial commit: myapp base and dev/staging/prod overlays",
) -> SeededRepo:
    """Creates a bare repository at `dest` whose branches all hold `content` under `content_prefix`.

    `dest` must not exist or be an empty directory. HEAD points at `default_branch` (the first
    branch unless told), so a plain clone checks that branch out.
    """
    dest_path = Path(dest).resolve()
    if dest_path.exists() and any(dest_path.iterdir()):
        raise FileExistsError(f"{dest_path} exists and is not empty")
    if not branches:
        raise ValueError("at least one branch is needed")
    head = default_branch or branches[0]
    dest_path.mkdir(parents=True, exist_ok=True)
    run_git("init", "--bare", "--quiet", f"--initial-branch={head}", str(dest_path))
    with tempfile.TemporaryDirectory(prefix="promotebot-seed-") as tmp:
        work = Path(tmp)
        run_git("init", "--quiet", f"--initial-branch={branches[0]}", str(work))
        shutil.copytree(Path(content), work / content_prefix)
        run_git("add", "--all", cwd=work)
        run_git("-c", "commit.gpgsign=false", "commit", "--quiet", "-m", message, cwd=work)
        sha = run_git("rev-parse", "HEAD", cwd=work)
        refspecs = [f"HEAD:refs/heads/{branch}" for branch in branches]
        run_git("push", "--quiet", str(dest_path), *refspecs, cwd=work)
    return SeededRepo(path=dest_path, sha=sha, branches={branch: sha for branch in branches})


def branch_head(repo: str | Path, branch: str) -> str | None:
    """The commit `branch` points at in the (bare) repository, or None without such a branch."""
    try:
        return run_git(
            "--git-dir",
            str(repo),
            "rev-parse",
            "--verify",
            "--quiet",
            f"refs/heads/{branch}^{{commit}}",
        )
    except subprocess.CalledProcessError:
        return None


def commit_and_push(clone_url: str, branch: str, files: dict[str, str], message: str,
                    workdir: Path, author: tuple[str, str] | None = None) -> str:
    """What a developer does: clone `branch`, write `files` (path -> content), commit, push
    with plain git. Returns the new commit's sha."""
    import uuid

    work = Path(workdir) / f"clone-{uuid.uuid4().hex[:8]}"
    run_git("clone", "--quiet", "--branch", branch, clone_url, str(work))
    for path, content in files.items():
        target = work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    # --author, not `-c user.name`: git_env() sets GIT_AUTHOR_*, which win over configuration.
    identity = [f"--author={author[0]} <{author[1]}>"] if author else []
    run_git("add", "--all", cwd=work)
    run_git("-c", "commit.gpgsign=false", "commit", "--quiet", *identity, "-m", message, cwd=work)
    run_git("push", "--quiet", "origin", branch, cwd=work)
    return run_git("rev-parse", "HEAD", cwd=work)
