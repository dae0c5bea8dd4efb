"""The driver routes Flux statuses to the live records they can move, and coalesces kicks."""

from __future__ import annotations

import threading

from slackbot.driver import Driver
from slackbot.models import State
from slackbot.pipeline import FluxRef
from tests.core.conftest import DEVELOPER, REVIEWER, World


def test_status_of_the_target_kustomization_finishes_a_reconciling_promotion(world: World) -> None:
    sha = world.push_dev()
    promotion = world.engine.advance(world.engine.request("myapp", "staging", DEVELOPER).id)
    world.forge.set_check(sha, "ci", "success")
    world.forge.review(promotion.pr_number, REVIEWER)
    promotion = world.engine.advance(promotion.id)
    assert promotion.state is State.RECONCILING
    driver = Driver(world.engine)
    try:
        world.cluster.deploy("myapp-staging", "staging", promotion.merge_sha)
        driver.on_status(world.cluster.kustomization(FluxRef("myapp-staging")))
    finally:
        driver.stop(wait=True)
    assert world.store.get(promotion.id).state is State.DEPLOYED


def test_status_of_the_source_moves_a_promotion_waiting_for_it(world: World) -> None:
    world.push_dev()
    promotion = world.engine.advance(world.engine.request("myapp", "staging", DEVELOPER).id)
    new_head = world.forge.push("dev")  # the PR head moves; dev has not applied it yet
    promotion = world.engine.advance(promotion.id)
    assert promotion.gate("source").detail == f"dev has not applied {new_head[:7]} yet"
    driver = Driver(world.engine)
    world.cluster.deploy("myapp-dev", "dev", new_head)
    driver.on_status(world.cluster.kustomization(FluxRef("myapp-dev")))
    driver.stop(wait=True)
    assert world.store.get(promotion.id).gate("source").passed


def test_statuses_of_unrelated_kustomizations_move_nothing(world: World) -> None:
    world.push_dev()
    promotion = world.engine.advance(world.engine.request("myapp", "staging", DEVELOPER).id)
    version = promotion.version
    driver = Driver(world.engine)
    world.cluster.deploy("other", "main", "f" * 40)
    driver.on_status(world.cluster.kustomization(FluxRef("other")))
    driver.stop(wait=True)
    assert world.store.get(promotion.id).version == version


def test_a_burst_of_kicks_is_coalesced(world: World) -> None:
    world.push_dev()
    promotion = world.engine.request("myapp", "staging", DEVELOPER)
    gate = threading.Event()
    calls: list[int] = []
    original = world.engine.advance

    def slow_advance(promotion_id: int, status=None):  # type: ignore[no-untyped-def]
        calls.append(promotion_id)
        gate.wait(5)
        return original(promotion_id)

    world.engine.advance = slow_advance  # type: ignore[method-assign]
    driver = Driver(world.engine, workers=1)
    first = driver.kick(promotion.id)
    # the first kick is running (blocked); the next is queued once, the rest coalesce into it
    while not calls:
        threading.Event().wait(0.01)
    queued = [driver.kick(promotion.id) for _ in range(10)]
    gate.set()
    pending = [f for f in queued if f is not None]
    assert first is not None and len(pending) == 1
    first.result(timeout=10)
    pending[0].result(timeout=10)
    driver.stop()
    assert len(calls) == 2
