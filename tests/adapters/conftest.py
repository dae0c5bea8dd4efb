"""A running emulated world (GitHub, cluster with Flux, Slack) for the adapter contract tests."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.gitseed import run_git
from sandbox.world import World

WAIT = 20.0


def wait_for(check: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}; last value: {last!r}")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with World(time_scale=100, pod_start_delay=2.0, requeue_dependency=30.0,
               workdir=tmp_path / "world") as running:
        yield running


def push(world: World, branch: str, path: str, content: str, message: str,
         workdir: Path) -> str:
    """A developer's push with plain git over the emulated GitHub's smart HTTP."""
    work = workdir / f"clone-{uuid.uuid4().hex[:8]}"
    run_git("clone", "--quiet", "--branch", branch, world.github.clone_url, str(work))
    target = work / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)
    run_git("add", "--all", cwd=work)
    run_git("-c", "commit.gpgsign=false", "commit", "--quiet", "-m", message, cwd=work)
    run_git("push", "--quiet", "origin", branch, cwd=work)
    return run_git("rev-parse", "HEAD", cwd=work)
