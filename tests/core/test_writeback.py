"""GitHub write-back through the engine with the fake Forge: a Deployment per env deploy with
its statuses, the `promotebot/<env>` commit status on the promoted head, for promotions,
failed deploys, rejections and rollbacks; never two Deployments across a restart; a GitHub
that fails never fails a promotion; off per app in the pipeline file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from slackbot.config import load_pipeline
from slackbot.engine.writeback import WriteBack
from slackbot.errors import ConfigError
from slackbot.events import Event, Merging
from slackbot.models import State
from slackbot.workers import InlineWorkers
from tests.core.conftest import DEVELOPER, REVIEWER, STAKEHOLDER, World, build_core, new_world
from tests.core.fakes import FakeForge

DEFAULT = Path(__file__).resolve().parents[2] / "slackbot" / "default-pipeline.yaml"


def green_staging(world: World):  # type: ignore[no-untyped-def]
    sha = world.push_dev()
    promotion = world.requested("staging")
    world.forge.set_check(sha, "ci", "success")
    world.forge.review(promotion.pr_number, REVIEWER)
    return world.core.steps.advance(promotion.id)


def statuses_of(forge: FakeForge, sha: str) -> list[tuple[str, str]]:
    return [(context, state) for s, context, state, _ in forge.commit_statuses if s == sha]


def test_a_staging_promotion_shows_its_deployment_and_commit_status(world: World) -> None:
    promotion = green_staging(world)
    assert promotion.state is State.RECONCILING and promotion.deployment_id is not None
    spec = world.forge.deployments[promotion.deployment_id]
    assert (spec.ref, spec.environment, spec.record, spec.production) == (
        promotion.merge_sha, "staging", promotion.name, False)
    assert world.forge.deployment_statuses == [(promotion.deployment_id, "in_progress", None)]
    world.cluster.deploy("myapp-staging", "staging", promotion.merge_sha)
    done = world.core.steps.advance(promotion.id)
    assert done.state is State.DEPLOYED
    assert [s for _, s, _ in world.forge.deployment_statuses] == ["in_progress", "success"]
    assert statuses_of(world.forge, promotion.head_sha) == [("promotebot/staging", "success")]
    assert len(world.forge.deployments) == 1


def test_a_prod_deployment_is_a_production_environment(world: World) -> None:
    sha = world.forge.push("staging")
    world.cluster.deploy("myapp-staging", "staging", sha)
    promotion = world.requested("prod", rollback_plan="revert it")
    world.forge.set_check(sha, "ci", "success")
    world.forge.review(promotion.pr_number, REVIEWER)
    world.core.commands.approve(promotion.id, STAKEHOLDER)
    merged = world.core.steps.advance(promotion.id)
    assert merged.merged, merged.state
    assert world.forge.deployments[merged.deployment_id].production is True


def test_a_failed_deploy_fails_its_deployment_and_the_head(world: World) -> None:
    promotion = green_staging(world)
    world.cluster.set_status("myapp-staging", ready="False", reason="BuildFailed",
                             message="kustomize build failed", applied=None,
                             attempted=f"staging@sha1:{promotion.merge_sha}")
    failed = world.core.steps.advance(promotion.id)
    assert failed.state is State.FAILED
    assert [s for _, s, _ in world.forge.deployment_statuses] == ["in_progress", "failure"]
    assert statuses_of(world.forge, promotion.head_sha)[-1] == ("promotebot/staging", "failure")


def test_a_rejection_fails_the_head_and_creates_no_deployment(world: World) -> None:
    sha = world.forge.push("staging")
    world.cluster.deploy("myapp-staging", "staging", sha)
    promotion = world.requested("prod", rollback_plan="revert it")
    world.core.commands.reject(promotion.id, STAKEHOLDER, "not today")
    assert statuses_of(world.forge, sha) == [("promotebot/prod", "failure")]
    assert world.forge.deployments == {}


def test_a_waiting_record_writes_no_status_on_the_head_its_gates_read(world: World) -> None:
    """A status of the bot's own on the head would change the combined status the gates read,
    and make that read count against GitHub's rate limit; only the outcome is written."""
    first = world.push_dev()
    promotion = world.requested("staging")
    second = world.push_dev()
    moved = world.core.steps.advance(promotion.id)
    assert moved.head_sha == second and moved.state is State.AWAITING_GATES
    assert world.forge.commit_statuses == []
    world.core.commands.cancel(promotion.id, moved.requested_by)
    assert statuses_of(world.forge, first) == []
    assert statuses_of(world.forge, second) == [("promotebot/staging", "error")]


def test_a_rollback_deploys_its_revert_sha(world: World) -> None:
    shas = [world.forge.push("dev") for _ in range(3)][::-1]
    world.workspace.history["dev"] = shas
    world.cluster.deploy("myapp-dev", "dev", shas[0])
    record = world.core.steps.advance(
        world.core.incidents.rollback("myapp", "dev", DEVELOPER, to=shas[1][:7]).id)
    assert record.state is State.RECONCILING
    spec = world.forge.deployments[record.deployment_id]
    assert (spec.ref, spec.environment, spec.record) == (record.merge_sha, "dev", record.name)
    world.cluster.deploy("myapp-dev", "dev", record.merge_sha)
    assert world.core.steps.advance(record.id).state is State.DEPLOYED
    assert [s for _, s, _ in world.forge.deployment_statuses] == ["in_progress", "success"]
    assert statuses_of(world.forge, record.merge_sha)[-1] == ("promotebot/dev", "success")


def test_a_hotfix_deploys_to_prod_as_production(world: World) -> None:
    world.core.incidents.hotfix_start("myapp", "login", DEVELOPER)
    fix = world.forge.push("hotfix/login")
    record = world.hotfix_promoted("login")
    world.forge.set_check(fix, "ci", "success")
    world.forge.review(record.pr_number, REVIEWER)
    world.core.commands.set_rollback_plan(record.id, DEVELOPER, "revert the hotfix merge")
    world.core.commands.approve(record.id, STAKEHOLDER, fix)
    record = world.store.get(record.id)
    assert record.state is State.RECONCILING
    spec = world.forge.deployments[record.deployment_id]
    assert (spec.ref, spec.environment, spec.record, spec.production) == (
        record.merge_sha, "prod", record.name, True)
    world.cluster.deploy("myapp-prod", "prod", record.merge_sha)
    assert world.core.steps.advance(record.id).state is State.DEPLOYED
    assert statuses_of(world.forge, fix)[-1] == ("promotebot/prod", "success")
    assert [s for _, s, _ in world.forge.deployment_statuses] == ["in_progress", "success"]


def test_a_restart_after_the_merge_call_makes_no_second_deployment(world: World) -> None:
    sha = world.push_dev()
    promotion = world.requested("staging")
    world.forge.set_check(sha, "ci", "success")
    world.forge.review(promotion.pr_number, REVIEWER)
    merging = world.store.transition(promotion, Event(promotion.id, "myapp", "staging",
                                                      "promotebot", world.clock.now(),
                                                      Merging(sha)), State.MERGING)
    # The first life created the Deployment at the merge, then died before recording it.
    first = WriteBack(world.core.lookup, world.store, world.forge, InlineWorkers().submit)
    created = first.open(merging, world.forge.merge_pull("acme/myapp", merging.pr_number, sha,
                                                         "t"))
    assert created is not None
    [resumed_id] = build_core(world.core.lookup.pipeline, world.store, world.forge,
                              world.cluster, world.directory, world.notifier, world.clock,
                              world.workspace).runner.resume()
    resumed = world.store.get(resumed_id)
    assert resumed.state is State.RECONCILING and resumed.deployment_id == created
    assert len(world.forge.deployments) == 1
    world.cluster.deploy("myapp-staging", "staging", resumed.merge_sha)
    assert world.core.steps.advance(resumed.id).state is State.DEPLOYED
    assert len(world.forge.deployments) == 1
    assert [s for _, s, _ in world.forge.deployment_statuses] == ["in_progress", "success"]


def test_a_failing_github_never_fails_the_promotion(world: World) -> None:
    world.forge.write_back_fails = True
    promotion = green_staging(world)
    assert promotion.state is State.RECONCILING and promotion.deployment_id is None
    world.cluster.deploy("myapp-staging", "staging", promotion.merge_sha)
    assert world.core.steps.advance(promotion.id).state is State.DEPLOYED
    assert world.forge.deployments == {} and world.forge.commit_statuses == []


def test_write_back_is_off_for_an_app_that_says_so(world: World) -> None:
    pipeline = world.core.lookup.pipeline
    app = replace(pipeline.app("myapp"), github_write_back=False)
    off = new_world(world.store, replace(pipeline, apps={"myapp": app}))
    promotion = green_staging(off)
    off.cluster.deploy("myapp-staging", "staging", promotion.merge_sha)
    assert off.core.steps.advance(promotion.id).state is State.DEPLOYED
    assert off.forge.deployments == {} and off.forge.commit_statuses == []


def test_the_pipeline_file_turns_it_off(tmp_path: Path) -> None:
    assert load_pipeline(None).app("myapp").github_write_back is True
    data = yaml.safe_load(DEFAULT.read_text())
    data["apps"]["myapp"]["githubWriteBack"] = False
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(data))
    assert load_pipeline(str(path)).app("myapp").github_write_back is False
    data["apps"]["myapp"]["githubWriteBack"] = "no"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="githubWriteBack"):
        load_pipeline(str(path))
