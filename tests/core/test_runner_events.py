"""What one Flux event costs the watch thread: the env's recent records are read (to find a
failed one that recovered) only when the event says Ready, as a recovery needs."""

from __future__ import annotations

import pytest

from tests.core.conftest import World


def test_only_a_ready_status_reads_the_envs_recent_records(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[tuple[str, str]] = []
    real = world.store.history

    def history(app: str, env: str, limit: int) -> object:
        reads.append((app, env))
        return real(app, env, limit)

    monkeypatch.setattr(world.store, "history", history)
    world.cluster.set_status("myapp-staging", ready="Unknown", reason="Progressing")
    world.core.runner.on_status(world.cluster.kustomizations["myapp-staging"])
    assert reads == []
    world.cluster.set_status("myapp-staging", ready="True", applied="staging@sha1:abc")
    world.core.runner.on_status(world.cluster.kustomizations["myapp-staging"])
    assert reads == [("myapp", "staging")]
