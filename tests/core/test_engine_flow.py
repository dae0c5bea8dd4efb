"""The workflow document's path through the engine, step by step, with our fakes; and the
failures after the merge, each with its reason."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from handlers.messages.refusals import progress, sentence
from slackbot.events import Event, Merging
from slackbot.models import State
from slackbot.ports import Rollout
from slackbot.reasons import Code
from tests.core.conftest import DEVELOPER, REVIEWER, STAKEHOLDER, World, build_core


def restarted(world: World):  # type: ignore[no-untyped-def]
    """A new engine over the same store and world, as after a restart."""
    return build_core(world.core.lookup.pipeline, world.store, world.forge, world.cluster,
                      world.directory, world.notifier, world.clock, world.workspace)


def green_staging(world: World):
    sha = world.push_dev()
    promotion = world.core.commands.request("myapp", "staging", DEVELOPER)
    promotion = world.core.steps.advance(promotion.id)
    assert promotion.state is State.AWAITING_GATES
    assert promotion.head_sha == sha
    world.forge.set_check(sha, "ci", "success")
    world.forge.review(promotion.pr_number, REVIEWER)
    return world.core.steps.advance(promotion.id)


def test_staging_promotion_merges_and_deploys(world: World) -> None:
    promotion = green_staging(world)
    assert promotion.state is State.RECONCILING
    assert promotion.merge_sha == world.forge.heads["staging"]
    token = promotion.reconcile_token
    assert world.cluster.reconciles == [("source", "myapp-staging", token)]
    assert progress(world.core.steps.advance(promotion.id).progress) == (
        "waiting for Flux to fetch the merge")
    assert world.cluster.reconciles == [("source", "myapp-staging", token)]
    world.cluster.deploy("myapp-staging", "staging", promotion.merge_sha)
    done = world.core.steps.advance(promotion.id)
    assert done.state is State.DEPLOYED
    assert done.finished_at is not None
    kinds = [e.kind for e in world.store.events(promotion.id)]
    assert kinds == ["requested", "pr_opened", "awaiting_gates", "gates_passed", "merged",
                     "progress", "deployed"]
    assert world.store.live("myapp", "staging") is None
    pull = world.forge.pulls[promotion.pr_number]
    assert pull.merged and "### Commits (1)" in pull.body
    # the notifier heard of every step, in order, from the newest record
    assert world.notifier.seen[0] == ("requested", "requested")
    assert world.notifier.seen[-1] == ("deployed", "deployed")


def test_the_oldest_commits_time_is_kept_on_the_record_for_the_lead_time(
        world: World) -> None:
    world.forge.first_commit_at = world.clock.now() - timedelta(hours=6)
    promotion = green_staging(world)
    assert promotion.first_commit_at == world.clock.now() - timedelta(hours=6)


def test_prod_promotion_needs_review_stakeholder_plan_and_window(world: World) -> None:
    sha = world.forge.push("staging")
    world.cluster.deploy("myapp-staging", "staging", sha)
    promotion = world.requested("prod")
    world.forge.set_check(sha, "ci", "success")
    world.forge.review(promotion.pr_number, REVIEWER)
    promotion = world.core.steps.advance(promotion.id)
    assert promotion.state is State.AWAITING_GATES
    pending = {g.name for g in promotion.gates if not g.passed}
    assert pending == {"stakeholders", "rollback-plan"}
    promotion = world.core.commands.approve(promotion.id, STAKEHOLDER, sha)
    assert promotion.state is State.AWAITING_GATES
    world.core.commands.set_rollback_plan(promotion.id, DEVELOPER,
                                          "Revert the merge commit on prod.")
    promotion = world.store.get(promotion.id)  # the plan's wake took it through the merge
    assert promotion.state is State.RECONCILING
    assert "### Rollback plan\n\nRevert the merge commit on prod." in (
        world.forge.pulls[promotion.pr_number].body)
    world.cluster.deploy("myapp-prod", "prod", promotion.merge_sha)
    assert world.core.steps.advance(promotion.id).state is State.DEPLOYED


def test_failing_check_fails_the_promotion_with_its_reason(world: World) -> None:
    sha = world.push_dev()
    promotion = world.requested("staging")
    world.forge.set_check(sha, "ci", "failure")
    failed = world.core.steps.advance(promotion.id)
    assert failed.state is State.FAILED
    assert sentence(failed.failure) == (
        f"ci failed on {sha[:7]}: fix it on dev, then /promote staging again")
    assert "merge 1" not in world.forge.calls


def test_conflict_fails_the_promotion_and_leaves_the_reason(world: World) -> None:
    world.forge.conflict = True
    failed = green_staging(world)
    assert failed.state is State.FAILED
    assert sentence(failed.failure).startswith(
        f"the pull request #{failed.pr_number} cannot be merged")
    assert "resolve the conflict between dev and staging" in sentence(failed.failure)
    assert world.store.get(failed.id).failure == failed.failure


def test_head_moving_at_merge_time_fails_without_merging(world: World) -> None:
    sha = world.push_dev()
    promotion = world.requested("staging")
    world.forge.set_check(sha, "ci", "success")
    world.forge.review(promotion.pr_number, REVIEWER)
    # the head moves between the gate evaluation and the merge call
    original = world.forge.merge_pull

    def push_then_merge(repo: str, number: int, sha: str, title: str) -> str:
        world.forge.push("dev")
        return original(repo, number, sha, title)

    world.forge.merge_pull = push_then_merge  # type: ignore[method-assign]
    failed = world.core.steps.advance(promotion.id)
    assert failed.state is State.FAILED
    assert sentence(failed.failure).startswith("the pull request head moved after approval")
    assert not world.forge.pulls[promotion.pr_number].merged


def test_build_failure_after_merge_is_reported(world: World) -> None:
    promotion = green_staging(world)
    revision = f"staging@sha1:{promotion.merge_sha}"
    world.cluster.set_status("myapp-staging", ready="False", reason="BuildFailed",
                             message="kustomize build failed: missing resource",
                             applied=None, attempted=revision)
    failed = world.core.steps.advance(promotion.id)
    assert failed.state is State.FAILED
    assert sentence(failed.failure) == (
        f"Flux could not apply staging@{promotion.merge_sha[:7]} to staging: "
        "BuildFailed: kustomize build failed: missing resource")


def test_health_check_failure_after_merge_is_reported(world: World) -> None:
    promotion = green_staging(world)
    revision = f"staging@sha1:{promotion.merge_sha}"
    world.cluster.set_status("myapp-staging", ready="False", reason="HealthCheckFailed",
                             message="timeout waiting for: [Deployment/staging/myapp status: "
                                     "'InProgress']", applied=None, attempted=revision)
    failed = world.core.steps.advance(promotion.id)
    assert failed.state is State.FAILED
    assert "HealthCheckFailed: timeout waiting for" in sentence(failed.failure)


def test_the_kustomization_is_asked_once_the_source_has_the_merge(world: World) -> None:
    """As `flux reconcile kustomization --with-source`: the source first; the Kustomization
    only once the source's artifact is the merged revision, and once (its annotation says)."""
    promotion = green_staging(world)
    token = promotion.reconcile_token
    assert token is not None and promotion.merge_sha is not None
    world.core.steps.advance(promotion.id)
    assert world.cluster.reconciles == [("source", "myapp-staging", token)]
    world.cluster.sources["myapp-staging"] = f"staging@sha1:{promotion.merge_sha}"
    applying = world.core.steps.advance(promotion.id)
    assert progress(applying.progress).startswith("source fetched ")
    assert world.cluster.reconciles == [("source", "myapp-staging", token),
                                        ("kustomization", "myapp-staging", token)]
    world.core.steps.advance(promotion.id)
    assert len(world.cluster.reconciles) == 2  # asked: not again
    world.cluster.deploy("myapp-staging", "staging", promotion.merge_sha)
    assert world.core.steps.advance(promotion.id).state is State.DEPLOYED


def test_the_deadline_allows_for_a_health_check_flux_does_not_cancel(world: World) -> None:
    """Staging's pipeline timeout is 3m, its Kustomization's 5m: a health check already
    running may take 5m, then ours 5m, so the record fails only after 11m."""
    promotion = green_staging(world)
    stuck = dataclasses.replace(world.cluster.kustomizations["myapp-staging"],
                                timeout=timedelta(minutes=5))
    world.cluster.kustomizations["myapp-staging"] = stuck
    world.clock.advance(minutes=10, seconds=59)
    assert world.core.steps.advance(promotion.id).state is State.RECONCILING
    world.clock.advance(seconds=2)
    failed = world.core.steps.advance(promotion.id)
    assert failed.state is State.FAILED
    assert failed.failure is not None and failed.failure.code is Code.TIMED_OUT
    assert failed.failure.timeout == timedelta(minutes=11)


def test_dependency_wait_is_shown_then_timeout_fails(world: World) -> None:
    promotion = green_staging(world)
    world.cluster.set_status("myapp-staging", ready="False", reason="DependencyNotReady",
                             message="dependency 'flux-system/myapp-dev' is not ready")
    waiting = world.core.steps.advance(promotion.id)
    assert waiting.state is State.RECONCILING
    assert progress(waiting.progress) == (
        "waiting for a dependency: dependency 'flux-system/myapp-dev' is not ready")
    world.clock.advance(minutes=3, seconds=1)
    failed = world.core.steps.advance(promotion.id)
    assert failed.state is State.FAILED
    assert sentence(failed.failure).startswith(
        f"staging did not apply staging@{promotion.merge_sha[:7]} within 3m (waiting for a "
        "dependency")


def test_rollout_in_progress_then_deployed(world: World) -> None:
    promotion = green_staging(world)
    world.cluster.deploy("myapp-staging", "staging", promotion.merge_sha)
    world.cluster.rollouts[("staging", "myapp")] = Rollout(
        "myapp", "staging", 2, 2, 1, 1, False, False, "1 of 2 updated replicas are available")
    rolling = world.core.steps.advance(promotion.id)
    assert rolling.state is State.RECONCILING
    assert progress(rolling.progress) == "rollout: myapp 1/2 ready"
    del world.cluster.rollouts[("staging", "myapp")]
    assert world.core.steps.advance(promotion.id).state is State.DEPLOYED


def test_crash_mid_promotion_resumes_after_restart(world: World) -> None:
    sha = world.push_dev()
    promotion = world.requested("staging")
    world.forge.set_check(sha, "ci", "success")
    world.forge.review(promotion.pr_number, REVIEWER)
    # The process died right after recording "merging", before calling GitHub.
    world.store.transition(promotion, Event(promotion.id, "myapp", "staging", "promotebot",
                                            world.clock.now(), Merging(sha)), State.MERGING)
    [resumed_id] = restarted(world).runner.resume()
    resumed = world.store.get(resumed_id)
    assert resumed.state is State.RECONCILING
    assert world.forge.calls.count(f"merge {promotion.pr_number}") == 1


def test_crash_after_the_merge_call_does_not_merge_twice(world: World) -> None:
    sha = world.push_dev()
    promotion = world.requested("staging")
    world.forge.set_check(sha, "ci", "success")
    world.forge.review(promotion.pr_number, REVIEWER)
    merging = world.store.transition(promotion, Event(promotion.id, "myapp", "staging",
                                                      "promotebot", world.clock.now(),
                                                      Merging(sha)), State.MERGING)
    merge_sha = world.forge.merge_pull("acme/myapp", merging.pr_number, sha, "t")  # then it died
    [resumed_id] = restarted(world).runner.resume()
    resumed = world.store.get(resumed_id)
    assert resumed.state is State.RECONCILING and resumed.merge_sha == merge_sha
    assert world.forge.calls.count(f"merge {promotion.pr_number}") == 1


def test_stale_promotion_expires(world: World) -> None:
    world.push_dev()
    world.requested("staging")
    world.clock.advance(hours=25)
    [expired_id] = world.core.runner.tick()
    assert world.store.get(expired_id).state is State.EXPIRED
    assert world.store.live("myapp", "staging") is None


def test_existing_pull_request_is_adopted(world: World) -> None:
    world.push_dev()
    existing = world.forge.open_pull("acme/myapp", "staging", "dev", "by hand", "opened by hand")
    promotion = world.requested("staging")
    assert promotion.pr_number == existing.number
    assert len(world.forge.pulls) == 1
    assert world.store.events(promotion.id)[1].facts.adopted


def test_concurrent_advances_merge_once(world: World) -> None:
    import threading
    sha = world.push_dev()
    promotion = world.requested("staging")
    world.forge.set_check(sha, "ci", "success")
    world.forge.review(promotion.pr_number, REVIEWER)
    barrier = threading.Barrier(8)

    def go() -> None:
        barrier.wait()
        world.core.steps.advance(promotion.id)

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert world.forge.calls.count(f"merge {promotion.pr_number}") == 1
    assert world.store.get(promotion.id).state is State.RECONCILING


def test_merge_scheduled_for_a_window_does_not_expire_while_it_waits(world: World) -> None:
    world.clock.moment = world.clock.moment.replace(day=27, hour=18)  # Friday evening
    sha = world.forge.push("staging")
    world.cluster.deploy("myapp-staging", "staging", sha)
    promotion = world.core.steps.advance(world.core.commands.request("myapp", "prod", DEVELOPER,
                                                          rollback_plan="revert it").id)
    world.forge.set_check(sha, "ci", "success")
    world.forge.review(promotion.pr_number, REVIEWER)
    world.core.commands.approve(promotion.id, STAKEHOLDER, sha)
    waiting = world.store.get(promotion.id)
    assert waiting.merge_not_before is not None
    world.clock.moment = waiting.merge_not_before.replace(hour=12)  # Monday noon, 66 h later
    [merged_id] = world.core.runner.tick()
    assert world.store.get(merged_id).state is State.RECONCILING
