"""The runner routes Flux statuses to the live records they can move, coalesces kicks, and
advances records on the bot's workers: serialised per record, in parallel across records, a
failure in one never stopping another."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from handlers.messages.card import gate_detail
from slackbot import engine
from slackbot.engine import Core
from slackbot.models import Promotion, State
from slackbot.pipeline import FluxRef
from slackbot.workers import Workers
from tests.core.conftest import DEVELOPER, REVIEWER, World
from tests.waiting import wait_for


@pytest.fixture
def workers() -> Iterator[Workers]:
    pool = Workers(threads=4, name="test-worker")
    yield pool
    pool.stop(wait=True)


def threaded(world: World, workers: Workers) -> Core:
    """The world's engine again, its work on real worker threads."""
    ports = engine.Ports(world.store, world.forge, world.cluster, world.directory,
                         world.notifier, world.clock, world.workspace)
    return engine.build(world.core.lookup.pipeline, ports, workers.submit)


def merged_into_staging(world: World) -> Promotion:
    """A staging promotion through its gates, merged: Flux is next."""
    sha = world.push_dev()
    promotion = world.core.steps.advance(
        world.core.commands.request("myapp", "staging", DEVELOPER).id)
    world.forge.set_check(sha, "ci", "success")
    world.forge.review(promotion.pr_number, REVIEWER)
    promotion = world.core.steps.advance(promotion.id)
    assert promotion.state is State.RECONCILING
    return promotion


def test_status_of_the_target_kustomization_finishes_a_reconciling_promotion(
        world: World, workers: Workers) -> None:
    promotion = merged_into_staging(world)
    core = threaded(world, workers)
    world.cluster.deploy("myapp-staging", "staging", promotion.merge_sha)
    core.runner.on_status(world.cluster.kustomization(FluxRef("myapp-staging")))
    wait_for(workers.idle, "the kicked advance")
    assert world.store.get(promotion.id).state is State.DEPLOYED


def test_a_failure_flux_retries_at_once_is_judged_on_the_status_the_watch_delivered(
        world: World, workers: Workers) -> None:
    # Flux failed the health check of the merged revision and retried at once (a reconcile
    # request queued behind it): by the time the record is advanced, a fresh read shows the
    # retry in progress; the failure the watch delivered is still the verdict
    promotion = merged_into_staging(world)
    revision = promotion.expected_revision
    core = threaded(world, workers)
    world.cluster.set_status("myapp-staging", ready="False", reason="HealthCheckFailed",
                             message="health check failed after 30s: timeout waiting for: "
                                     "[Deployment/staging/myapp status: 'InProgress']",
                             applied=world.cluster.kustomizations["myapp-staging"]
                             .last_applied_revision, attempted=revision)
    failed = world.cluster.kustomization(FluxRef("myapp-staging"))
    world.cluster.set_status("myapp-staging", ready="Unknown", reason="Progressing",
                             applied=failed.last_applied_revision, attempted=revision)
    core.runner.on_status(failed)
    wait_for(workers.idle, "the advance on the delivered status")
    record = world.store.get(promotion.id)
    assert record.state is State.FAILED
    assert record.failure is not None and record.failure.flux_reason == "HealthCheckFailed"


def test_a_failure_of_another_revision_fails_nothing(world: World, workers: Workers) -> None:
    promotion = merged_into_staging(world)
    core = threaded(world, workers)
    before = world.cluster.kustomizations["myapp-staging"]
    world.cluster.set_status("myapp-staging", ready="False", reason="HealthCheckFailed",
                             message="health check failed after 30s",
                             applied=before.last_applied_revision,
                             attempted=before.last_applied_revision)  # the old revision's
    core.runner.on_status(world.cluster.kustomization(FluxRef("myapp-staging")))
    wait_for(workers.idle, "the workers")
    assert world.store.get(promotion.id).state is State.RECONCILING


def test_status_of_the_source_moves_a_promotion_waiting_for_it(world: World,
                                                               workers: Workers) -> None:
    world.push_dev()
    promotion = world.core.steps.advance(
        world.core.commands.request("myapp", "staging", DEVELOPER).id)
    new_head = world.forge.push("dev")  # the PR head moves; dev has not applied it yet
    promotion = world.core.steps.advance(promotion.id)
    assert gate_detail(promotion.gate("source")) == f"dev has not applied {new_head[:7]} yet"
    core = threaded(world, workers)
    world.cluster.deploy("myapp-dev", "dev", new_head)
    core.runner.on_status(world.cluster.kustomization(FluxRef("myapp-dev")))
    wait_for(workers.idle, "the kicked advance")
    assert world.store.get(promotion.id).gate("source").passed


def test_statuses_of_unrelated_kustomizations_move_nothing(world: World,
                                                          workers: Workers) -> None:
    world.push_dev()
    promotion = world.core.steps.advance(
        world.core.commands.request("myapp", "staging", DEVELOPER).id)
    version = promotion.version
    core = threaded(world, workers)
    world.cluster.deploy("other", "main", "f" * 40)
    core.runner.on_status(world.cluster.kustomization(FluxRef("other")))
    wait_for(workers.idle, "the workers")
    assert world.store.get(promotion.id).version == version


def test_a_burst_of_kicks_is_coalesced(world: World, workers: Workers) -> None:
    world.push_dev()
    promotion = world.core.commands.request("myapp", "staging", DEVELOPER)
    core = threaded(world, workers)
    gate = threading.Event()
    calls: list[int] = []
    original = core.steps.advance

    def slow_advance(promotion_id: int, status=None):  # type: ignore[no-untyped-def]
        calls.append(promotion_id)
        gate.wait(30)
        return original(promotion_id)

    core.steps.advance = slow_advance  # type: ignore[method-assign]
    assert core.runner.kick(promotion.id)
    wait_for(lambda: calls, "the first advance to start")
    # the first kick is running (blocked); the next is queued once, the rest coalesce into it
    queued = [core.runner.kick(promotion.id) for _ in range(10)]
    gate.set()
    wait_for(workers.idle, "the kicks to finish")
    assert queued.count(True) == 1
    assert len(calls) == 2


def test_a_record_that_raises_is_logged_and_never_stops_the_others(
        world: World, workers: Workers, caplog: pytest.LogCaptureFixture) -> None:
    world.push_dev()
    first = world.core.commands.request("myapp", "staging", DEVELOPER)
    world.forge.push("staging")
    world.cluster.deploy("myapp-staging", "staging", world.forge.heads["staging"])
    second = world.core.commands.request("myapp", "prod", DEVELOPER)
    core = threaded(world, workers)
    original = core.steps.advance

    def advance(promotion_id: int, status=None):  # type: ignore[no-untyped-def]
        if promotion_id == first.id:
            raise RuntimeError("a bug in one record")
        return original(promotion_id)

    core.steps.advance = advance  # type: ignore[method-assign]
    before = {r.id: world.store.get(r.id).version for r in (first, second)}
    world.forge.set_check(second.head_sha, "ci", "success")  # a gate the tick will see move
    assert sorted(core.runner.tick()) == sorted([first.id, second.id])
    wait_for(workers.idle, "the tick's advances")
    assert world.store.get(second.id).version > before[second.id]  # the tick advanced it
    assert world.store.get(second.id).gate("check:ci").passed
    assert world.store.get(first.id).version == before[first.id]
    failed = [r for r in caplog.records if "a bug in one record" in (r.exc_text or "")]
    assert failed and str(first.id) in failed[0].getMessage()
