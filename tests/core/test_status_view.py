"""The shared status view as an ack reads it (`StatusReader.read_known`): fresh by the view's
rules, or the view before while another viewer reads GitHub and the cluster again, and never
an older one."""

from __future__ import annotations

import threading

import pytest

from tests.core.conftest import DEVELOPER, World
from tests.waiting import WAIT


def _due_while_read(world: World, monkeypatch: pytest.MonkeyPatch,
                    seconds: int) -> tuple[str, threading.Event, threading.Thread]:
    """A view read, then a push to dev and `seconds` later a viewer whose read of GitHub is
    held: the dev head the view had, the event that releases the read, and its thread."""
    status = world.core.status
    status.read(None)
    before = world.forge.heads["dev"]
    world.push_dev()
    status.changed()
    world.clock.advance(seconds=seconds)
    assert status.read_known(None) is None  # due: an ack would leave it to the workers
    entered, release = threading.Event(), threading.Event()
    real = world.forge.branch_head

    def held(repo: str, branch: str) -> str:
        if not entered.is_set():  # the viewer's first read waits; other callers do not
            entered.set()
            release.wait(WAIT)
        return real(repo, branch)

    monkeypatch.setattr(world.forge, "branch_head", held)
    reader = threading.Thread(target=status.read, args=(None,))
    reader.start()
    assert entered.wait(WAIT)
    return before, release, reader


def test_while_a_viewer_reads_again_the_others_see_the_view_before(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    before, release, reader = _due_while_read(world, monkeypatch, seconds=6)
    live = world.core.commands.request("myapp", "staging", DEVELOPER)

    shown = world.core.status.read_known(None)
    assert shown is not None and shown.envs[0].head_sha == before
    assert shown.envs[1].live is not None and shown.envs[1].live.id == live.id  # the store's
    release.set()
    reader.join(WAIT)
    after = world.core.status.read_known(None)
    assert after is not None and after.envs[0].head_sha == world.forge.heads["dev"] != before


def test_a_view_twice_min_interval_old_is_not_shown_even_while_it_is_read(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    _, release, reader = _due_while_read(world, monkeypatch, seconds=11)
    try:
        assert world.core.status.read_known(None) is None
    finally:
        release.set()
        reader.join(WAIT)
    assert world.core.status.read_known(None) is not None
