"""A running emulated world (GitHub, cluster with Flux, Slack) for the adapter contract tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.gitseed import commit_and_push
from sandbox.world import World
from tests.waiting import wait_for

__all__ = ["push", "wait_for"]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with World(time_scale=100, pod_start_delay=2.0, requeue_dependency=30.0,
               workdir=tmp_path / "world") as running:
        yield running


def push(world: World, branch: str, path: str, content: str, message: str,
         workdir: Path) -> str:
    """A developer's push with plain git over the emulated GitHub's smart HTTP."""
    return commit_and_push(world.github.clone_url, branch, {path: content}, message, workdir)
