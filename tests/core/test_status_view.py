"""The shared status view as an ack reads it (`StatusReader.read_known`): what GitHub and the
cluster said, shown while the view's rules keep it (never a changed view past min_interval),
read ahead on the workers once a changed view is half that old, and a change that comes during
a read leaves the new view changed."""

from __future__ import annotations

import threading

import pytest

from tests.core.conftest import DEVELOPER, World
from tests.waiting import WAIT


def _changed_view(world: World, seconds: float) -> str:
    """A view read, then a push to dev (a change), `seconds` later: the head the view has."""
    world.core.status.read(None)
    before = world.forge.heads["dev"]
    world.push_dev()
    world.core.status.changed()
    world.clock.advance(seconds=seconds)
    return before


def test_a_changed_view_half_min_interval_old_is_shown_and_read_ahead_once(world: World) -> None:
    status = world.core.status
    before = _changed_view(world, seconds=3)
    reads = status.reads
    live = world.core.commands.request("myapp", "staging", DEVELOPER)

    shown = status.read_known(None)  # the core's test workers run what they get at once
    assert shown is not None and shown.envs[0].head_sha == before
    assert shown.envs[1].live is not None and shown.envs[1].live.id == live.id  # the store's
    assert status.reads == reads + 1
    again = status.read_known(None)
    assert again is not None and again.envs[0].head_sha == world.forge.heads["dev"] != before
    assert status.reads == reads + 1  # unchanged since: no read ahead


def test_a_changed_view_past_min_interval_is_never_shown(world: World) -> None:
    status = world.core.status
    _changed_view(world, seconds=5)
    reads = status.reads
    assert status.read_known(None) is None  # the workers read it before they answer
    assert status.reads == reads


def test_an_unchanged_view_is_shown_up_to_max_age_without_a_read(world: World) -> None:
    status = world.core.status
    status.read(None)
    reads = status.reads
    world.clock.advance(seconds=59)
    assert status.read_known(None) is not None
    world.clock.advance(seconds=1)
    assert status.read_known(None) is None
    assert status.reads == reads


def test_a_change_during_a_read_leaves_the_new_view_changed(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    status = world.core.status
    entered, release = threading.Event(), threading.Event()
    real = world.forge.branch_head

    def held(repo: str, branch: str) -> str:
        if not entered.is_set():  # the first read of GitHub waits; later ones do not
            entered.set()
            release.wait(WAIT)
        return real(repo, branch)

    monkeypatch.setattr(world.forge, "branch_head", held)
    reader = threading.Thread(target=status.read, args=(None,))
    reader.start()
    assert entered.wait(WAIT)
    world.push_dev()
    status.changed()  # after the read began: what it brings may already be old
    release.set()
    reader.join(WAIT)
    world.clock.advance(seconds=5)
    assert status.read_known(None) is None  # changed: due at min_interval, not at max_age
