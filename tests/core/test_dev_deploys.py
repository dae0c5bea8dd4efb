"""Dev deploys reported: each revision Flux applies (or fails to apply) on an app's first env
reported once, with the commits since the last one, across repeated statuses, restarts and a
second replica (what was reported is remembered in the real Redis); the first status only
remembered; a revision of the bot's own records and an app that opted out never reported."""

from __future__ import annotations

import contextlib

import redis

from slackbot.adapters.redis_store import RedisStore
from slackbot.config import default_pipeline_text, parse_pipeline
from slackbot.devdeploys import DevDeploy, DevDeploys
from slackbot.pipeline import Pipeline
from slackbot.ports import CommitInfo
from tests.core.conftest import World

DEV = "myapp-dev"


def _watcher(world: World, seen: list[DevDeploy],
             pipeline: Pipeline | None = None) -> DevDeploys:
    return DevDeploys(pipeline or world.core.lookup.pipeline, world.store, world.workspace,
                      world.clock, lambda key, work, tag: bool(work()) or True, seen.append)


def _status(world: World):  # type: ignore[no-untyped-def]
    return world.cluster.kustomizations[DEV]


def test_a_push_is_reported_once_with_its_commits_and_a_failure_with_fluxs_words(
        world: World) -> None:
    seen: list[DevDeploy] = []
    watcher = _watcher(world, seen)
    before = world.push_dev()
    watcher.on_status(_status(world))
    assert seen == []  # what ran before the bot watched is only remembered
    after = world.push_dev()
    world.workspace.change_commits[(before, after)] = [
        CommitInfo("e" * 40, "PAY-3 refunds", "alice"), CommitInfo(after, "tidy", "bob")]
    watcher.on_status(_status(world))
    watcher.on_status(_status(world))  # the same status again: nothing new
    assert len(seen) == 1
    report = seen[0]
    assert (report.app, report.env, report.sha, report.ready) == ("myapp", "dev", after, True)
    assert [(c.subject, c.author, c.tickets) for c in report.commits] == [
        ("PAY-3 refunds", "alice", ("PAY-3",)), ("tidy", "bob", ())]
    assert report.channel == world.core.lookup.app("myapp").channels.deploys
    broken = world.forge.push("dev")
    world.cluster.set_status(DEV, ready="False", reason="HealthCheckFailed",
                             message="timeout waiting for: [Deployment/dev/myapp]",
                             applied=f"dev@sha1:{after}", attempted=f"dev@sha1:{broken}")
    watcher.on_status(_status(world))
    assert len(seen) == 2
    assert (seen[1].sha, seen[1].ready) == (broken, False)
    assert "timeout waiting for" in seen[1].message


def test_a_restart_or_a_second_replica_does_not_report_it_again(
        world: World, redis_client: redis.Redis, prefix: str) -> None:
    seen: list[DevDeploy] = []
    _watcher(world, seen).on_status(_status(world))
    world.push_dev()
    _watcher(world, seen).on_status(_status(world))
    other = RedisStore(redis.Redis(connection_pool=redis_client.connection_pool), prefix=prefix)
    again = DevDeploys(world.core.lookup.pipeline, other, world.workspace, world.clock,
                       lambda key, work, tag: bool(work()) or True, seen.append)
    again.on_status(_status(world))
    assert len(seen) == 1


def test_a_report_that_fails_is_made_again_at_the_next_status(world: World) -> None:
    seen: list[DevDeploy] = []
    failing = [True]

    def report(deploy: DevDeploy) -> None:
        if failing.pop() if failing else False:
            raise RuntimeError("Slack is down")
        seen.append(deploy)

    watcher = DevDeploys(world.core.lookup.pipeline, world.store, world.workspace, world.clock,
                         lambda key, work, tag: _quiet(work), report)
    watcher.on_status(_status(world))
    world.push_dev()
    watcher.on_status(_status(world))
    assert seen == []
    watcher.on_status(_status(world))
    assert len(seen) == 1


def test_an_app_that_opted_out_is_not_reported(world: World) -> None:
    text = default_pipeline_text().replace("    repository:", "    reportDevDeploys: false\n"
                                           "    repository:", 1)
    seen: list[DevDeploy] = []
    watcher = _watcher(world, seen, parse_pipeline(text))
    watcher.on_status(_status(world))
    world.push_dev()
    watcher.on_status(_status(world))
    assert seen == []


def test_staging_and_prod_are_not_dev_deploys(world: World) -> None:
    seen: list[DevDeploy] = []
    watcher = _watcher(world, seen)
    world.deploy_all()
    for name in ("myapp-staging", "myapp-prod"):
        watcher.on_status(world.cluster.kustomizations[name])
        world.cluster.deploy(name, name.split("-")[1], world.forge.push(name.split("-")[1]))
        watcher.on_status(world.cluster.kustomizations[name])
    assert seen == []


def _quiet(work) -> bool:  # type: ignore[no-untyped-def]
    """As the bot's workers: a failure is logged, never raised to the caller."""
    with contextlib.suppress(RuntimeError):
        work()
    return True
