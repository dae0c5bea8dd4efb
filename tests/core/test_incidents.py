"""Rollbacks, holds, hotfixes and branch sync through the engine with our fakes; each refusal
with its sentence and Redis untouched."""

from __future__ import annotations

from dataclasses import replace

import pytest
import redis

from handlers.messages import timeline
from handlers.messages.refusals import sentence
from slackbot.config import load_pipeline
from slackbot.errors import (
    AlreadyLive,
    EnvBlocked,
    InvalidName,
    NotAllowed,
    NotFound,
    SourceNotReady,
)
from slackbot.events import SyncConflict, Synced
from slackbot.models import Kind, RevertMode, State
from tests.core.conftest import (
    DEVELOPER,
    OUTSIDER,
    REVIEWER,
    STAKEHOLDER,
    STAKEHOLDER2,
    World,
    build_core,
    snapshot,
)

ONCALL = "U0ONCALL"


@pytest.fixture
def refuse(world: World, redis_client: redis.Redis, prefix: str):  # type: ignore[no-untyped-def]
    def run(error, call, *args, **kwargs):  # type: ignore[no-untyped-def]
        before = snapshot(redis_client, prefix)
        calls = list(world.forge.calls)
        reverts = list(world.workspace.reverts)
        with pytest.raises(error) as caught:
            call(*args, **kwargs)
        assert snapshot(redis_client, prefix) == before
        assert world.forge.calls == calls
        assert world.workspace.reverts == reverts
        return sentence(caught.value.reason)
    return run


def with_history(world: World, env: str, count: int = 3) -> list[str]:
    """The env's branch had `count` heads; Flux runs the newest. Newest first."""
    shas = [world.forge.push(env) for _ in range(count)][::-1]
    world.workspace.history[env] = shas
    world.cluster.deploy(f"myapp-{env}", env, shas[0])
    return shas


def test_dev_rollback_pushes_a_revert_and_deploys(world: World) -> None:
    _head, previous, _ = with_history(world, "dev")
    record = world.core.incidents.rollback("myapp", "dev", DEVELOPER, to=previous[:7])
    assert (record.kind, record.rollback.mode, record.rollback.target) == (
        Kind.ROLLBACK, RevertMode.DIRECT, previous)
    record = world.core.steps.advance(record.id)
    assert record.state is State.RECONCILING
    [(branch, target, new_branch, sha)] = world.workspace.reverts
    assert (branch, target, new_branch, sha) == ("dev", previous, None, record.merge_sha)
    assert world.cluster.reconciles[-1][:2] == ("source", "myapp-dev")
    world.cluster.deploy("myapp-dev", "dev", record.merge_sha)
    assert world.core.steps.advance(record.id).state is State.DEPLOYED
    kinds = [e.kind for e in world.store.events(record.id)]
    assert kinds == ["requested", "hold", "reverting", "reverted", "progress", "deployed"]


def test_rollback_places_a_hold_until_unlocked(world: World) -> None:
    _, previous, _ = with_history(world, "staging")
    world.core.incidents.rollback("myapp", "staging", DEVELOPER, to=previous, reason="bad config")
    [hold] = world.store.blocks("myapp", "staging")
    assert (hold.kind, hold.by) == ("hold", DEVELOPER)
    assert (hold.target, hold.reason) == (previous, "bad config")
    live = world.store.live("myapp", "staging")
    world.push_dev()
    with pytest.raises(EnvBlocked) as refused:  # the hold is said before the live rollback
        world.core.commands.request("myapp", "staging", DEVELOPER)
    assert sentence(refused.value.reason).startswith("staging is on hold by <@U0DEV> since ")
    assert sentence(refused.value.reason).endswith(
        f"(rollback {live.name} to {previous[:7]}: bad config): fix the cause, then "
        f"/promote unlock staging")
    assert world.core.holds.unlock("myapp", "staging", STAKEHOLDER)
    world.core.commands.cancel(live.id, DEVELOPER)
    assert world.core.commands.request("myapp", "staging", DEVELOPER).state is State.REQUESTED


def test_staging_rollback_is_a_revert_pull_request_through_its_gates(world: World) -> None:
    _, previous, _ = with_history(world, "staging")
    record = world.core.incidents.rollback("myapp", "staging", DEVELOPER, to=previous)
    record = world.core.steps.advance(record.id)
    assert record.state is State.AWAITING_GATES
    [(branch, target, new_branch, revert_sha)] = world.workspace.reverts
    assert (branch, target, new_branch) == ("staging", previous, f"rollback/staging-{record.id}")
    pull = world.forge.pulls[record.pr_number]
    assert (pull.base, pull.head, pull.head_sha) == ("staging", new_branch, revert_sha)
    assert pull.body.startswith(f"Promotion {record.name}") or "rollback" in pull.body.lower()
    assert {g.name for g in record.gates} == {"check:ci", "reviews"}
    world.forge.set_check(revert_sha, "ci", "success")
    world.forge.review(record.pr_number, REVIEWER)
    record = world.core.steps.advance(record.id)
    assert record.state is State.RECONCILING


def test_planned_prod_rollback_needs_prods_gates_but_no_rollback_plan(world: World) -> None:
    _, previous, _ = with_history(world, "prod")
    record = world.core.steps.advance(
        world.core.incidents.rollback("myapp", "prod", DEVELOPER, to=previous).id)
    assert record.rollback.mode is RevertMode.PULL
    assert {g.name for g in record.gates} == {"check:ci", "reviews", "stakeholders", "window"}


def test_emergency_prod_rollback_reverts_prod_directly(world: World) -> None:
    _, previous, _ = with_history(world, "prod")
    record = world.core.incidents.rollback("myapp", "prod", ONCALL, to=previous, emergency=True,
                                      channel="C0INCIDENT")
    record = world.core.steps.advance(record.id)
    assert record.state is State.RECONCILING
    assert world.workspace.reverts[0][:3] == ("prod", previous, None)
    assert world.forge.heads["prod"] == record.merge_sha


def test_emergency_outside_the_incident_channel_is_refused(world: World, refuse) -> None:  # type: ignore[no-untyped-def]
    _, previous, _ = with_history(world, "prod")
    text = refuse(NotAllowed, world.core.incidents.rollback, "myapp", "prod", ONCALL, to=previous,
                  emergency=True, channel="C0DEPLOYS")
    assert text == ("an emergency rollback of prod is done in <#C0INCIDENT>: run it there, or "
                    "drop `emergency` for a planned revert pull request")


def test_emergency_by_someone_not_on_call_is_refused(world: World, refuse) -> None:  # type: ignore[no-untyped-def]
    _, previous, _ = with_history(world, "prod")
    text = refuse(NotAllowed, world.core.incidents.rollback, "myapp", "prod", DEVELOPER,
                  to=previous, emergency=True, channel="C0INCIDENT")
    assert text == f"an emergency rollback of prod needs the on-call role: ask <@{ONCALL}>"


def test_rollback_to_a_revision_the_env_never_ran_is_refused(world: World, refuse) -> None:  # type: ignore[no-untyped-def]
    with_history(world, "staging")
    stranger = world.forge.heads["dev"]
    text = refuse(NotFound, world.core.incidents.rollback, "myapp", "staging", DEVELOPER,
                  to=stranger[:9])
    assert text == (f"staging never ran {stranger[:9]}: /rollback staging without a revision "
                    f"lists the ones it ran")


def test_rollback_while_another_rollback_is_live_is_refused(world: World, refuse) -> None:  # type: ignore[no-untyped-def]
    _, previous, older = with_history(world, "staging")
    first = world.core.incidents.rollback("myapp", "staging", DEVELOPER, to=previous)
    text = refuse(AlreadyLive, world.core.incidents.rollback, "myapp", "staging", STAKEHOLDER,
                  to=older)
    assert text == (f"staging already has a live rollback ({first.name} by <@{DEVELOPER}>, "
                    f"awaiting gates): wait for it, or cancel it first")


def test_planned_prod_rollback_with_an_upstream_not_ready_says_which_and_why(
        world: World, refuse) -> None:  # type: ignore[no-untyped-def]
    _, previous, _ = with_history(world, "prod")
    world.cluster.set_status("myapp-staging", ready="False", reason="HealthCheckFailed",
                             message="timeout waiting for: [Deployment/staging/myapp]")
    text = refuse(SourceNotReady, world.core.incidents.rollback, "myapp", "prod", ONCALL,
                  to=previous)
    assert text == ("prod waits on staging, the first env of its dependsOn chain that is not "
                    "Ready (HealthCheckFailed: timeout waiting for: [Deployment/staging/myapp]): "
                    "after the rollback, Flux would apply prod only once staging is Ready. Roll "
                    "staging back (`/rollback staging`) or fix it, then retry")


def broken_dev(world: World) -> None:
    """dev fails to build: staging and prod wait on it in DependencyNotReady, as Flux shows."""
    world.cluster.set_status("myapp-dev", ready="False", reason="BuildFailed",
                             message="kustomize build failed: missing resource")
    for env, upstream in (("staging", "dev"), ("prod", "staging")):
        world.cluster.set_status(f"myapp-{env}", ready="False", reason="DependencyNotReady",
                                 message=f"dependency 'flux-system/myapp-{upstream}' is not ready",
                                 applied=world.cluster.kustomizations[f"myapp-{env}"]
                                 .last_applied_revision)


def test_a_broken_chain_names_its_root_not_the_env_next_to_it(world: World,
                                                              refuse) -> None:  # type: ignore[no-untyped-def]
    _, previous, _ = with_history(world, "prod")
    broken_dev(world)
    text = refuse(SourceNotReady, world.core.incidents.rollback, "myapp", "prod", ONCALL,
                  to=previous)
    assert text.startswith("prod waits on dev, the first env of its dependsOn chain that is not "
                           "Ready (BuildFailed: kustomize build failed: missing resource)")
    assert "Roll dev back (`/rollback dev`) or fix it" in text
    with pytest.raises(SourceNotReady) as caught:
        world.core.commands.request("myapp", "prod", DEVELOPER)
    text = sentence(caught.value.reason)
    assert text.startswith("staging waits on dev, the first env of its chain that is not Ready "
                           "in Flux (BuildFailed: kustomize build failed: missing resource): "
                           "roll dev back (`/rollback dev`) or fix it")


def test_an_emergency_rollback_is_not_refused_by_a_broken_chain(world: World) -> None:
    """Flux applies prod only once the chain is Ready; the revert is pushed at once anyway,
    and the chain's root is named so it can be rolled back too."""
    _, previous, _ = with_history(world, "prod")
    broken_dev(world)
    record = world.core.incidents.rollback("myapp", "prod", ONCALL, to=previous, emergency=True,
                                           channel="C0INCIDENT")
    record = world.store.get(record.id)  # its wake pushed the revert at once
    assert record.state is State.RECONCILING and record.channel == "C0INCIDENT"
    root = world.core.incidents.blocked_by(record)
    assert root is not None and (root.env, root.reason) == ("dev", "BuildFailed")
    record = world.core.steps.advance(record.id)
    assert record.progress is not None and record.progress.root == "dev"


def test_rollback_choices_list_the_envs_past_revisions(world: World) -> None:
    _head, previous, older = with_history(world, "prod")
    choices = world.core.incidents.rollback_choices("myapp", "prod")
    assert [c.sha for c in choices] == [previous, older]
    assert {c.record for c in choices} == {None}  # known from the branch history only


def test_hotfix_name_must_be_a_branch_name(world: World, refuse) -> None:  # type: ignore[no-untyped-def]
    for bad in ("fix login", "..", "-x", "a..b", "x.lock", "fix~1"):
        text = refuse(InvalidName, world.core.incidents.hotfix_start, "myapp", bad, DEVELOPER)
        assert text.startswith(f"`{bad}` is not a valid branch name")


def test_hotfix_that_exists_is_refused(world: World, refuse) -> None:  # type: ignore[no-untyped-def]
    world.core.incidents.hotfix_start("myapp", "login", DEVELOPER)
    text = refuse(NotAllowed, world.core.incidents.hotfix_start, "myapp", "login", DEVELOPER)
    assert text == ("hotfix/login already exists: push your fix to it and /hotfix promote "
                    "login, or pick another name")


def test_hotfix_goes_to_prod_through_its_gates_and_is_backported(world: World) -> None:
    branch, base = world.core.incidents.hotfix_start("myapp", "login", DEVELOPER)
    assert (branch, base) == ("hotfix/login", world.forge.heads["prod"])
    # a freeze does not stop a hotfix
    world.core.holds.freeze("myapp", "prod", STAKEHOLDER2, "sale")
    fix = world.forge.push("hotfix/login")
    record = world.hotfix_promoted("login")
    assert (record.kind, record.state, record.head_sha) == (Kind.HOTFIX, State.AWAITING_GATES, fix)
    # no change window for a hotfix: the incident is now (unless incidentsWaitForWindow)
    assert {g.name for g in record.gates} == {"check:ci", "reviews", "stakeholders",
                                              "rollback-plan"}
    world.forge.set_check(fix, "ci", "success")
    world.forge.review(record.pr_number, REVIEWER)
    world.core.commands.set_rollback_plan(record.id, DEVELOPER, "revert the hotfix merge")
    world.forge.conflicting_bases = {"dev"}
    world.forge.diverged = {"staging", "dev"}  # both hold work prod lacks: merges, not moves
    world.core.commands.approve(record.id, STAKEHOLDER, fix)
    record = world.store.get(record.id)  # the approval's wake merged it
    assert record.state is State.RECONCILING
    world.cluster.deploy("myapp-prod", "prod", record.merge_sha)
    assert world.core.steps.advance(record.id).state is State.DEPLOYED
    assert f"merge_branch {record.merge_sha}->staging" in world.forge.calls
    facts = [e.facts for e in world.store.events(record.id)]
    [backported] = [f for f in facts if isinstance(f, Synced)]
    [conflict] = [f for f in facts if isinstance(f, SyncConflict)]
    assert backported.backport and conflict.backport
    assert timeline.synced(backported).startswith("hotfix/login merged into staging as ")
    # dev gets staging once staging has the backport: dev never falls behind staging
    assert timeline.sync_conflict(conflict).startswith(
        "staging conflicts with dev: resolve it in pull request <https://")
    conflict_pr = [p for p in world.forge.pulls.values() if p.base == "dev"]
    assert conflict_pr and conflict_pr[0].head == "staging"
    assert any("conflicts with dev" in body for _, body in world.forge.comments)


def test_prod_promotion_is_synced_back_into_staging_and_dev(world: World) -> None:
    sha = world.forge.push("staging")
    world.cluster.deploy("myapp-staging", "staging", sha)
    record = world.core.steps.advance(world.core.commands.request("myapp", "prod", DEVELOPER,
                                                       rollback_plan="revert").id)
    world.forge.set_check(sha, "ci", "success")
    world.forge.review(record.pr_number, REVIEWER)
    world.core.commands.approve(record.id, STAKEHOLDER, sha)
    record = world.store.get(record.id)
    world.cluster.deploy("myapp-prod", "prod", record.merge_sha)
    assert world.core.steps.advance(record.id).state is State.DEPLOYED
    # nothing below holds work prod lacks: both branches are moved to the merge, no merge commit
    moves = [c for c in world.forge.calls if c.startswith(("merge_branch", "fast_forward"))]
    assert moves == ["fast_forward staging", "fast_forward dev"]
    assert world.forge.heads["staging"] == world.forge.heads["dev"] == record.merge_sha
    synced = [e.facts for e in world.store.events(record.id) if isinstance(e.facts, Synced)]
    assert [(f.base, f.fast_forward) for f in synced] == [("staging", True), ("dev", True)]


def test_a_sync_merges_only_where_a_branch_holds_work_prod_lacks(world: World) -> None:
    sha = world.forge.push("staging")
    world.cluster.deploy("myapp-staging", "staging", sha)
    record = world.core.steps.advance(world.core.commands.request("myapp", "prod", DEVELOPER,
                                                       rollback_plan="revert").id)
    world.forge.set_check(sha, "ci", "success")
    world.forge.review(record.pr_number, REVIEWER)
    world.core.commands.approve(record.id, STAKEHOLDER, sha)
    record = world.store.get(record.id)
    world.forge.diverged = {"dev"}  # a developer pushed to dev meanwhile
    world.cluster.deploy("myapp-prod", "prod", record.merge_sha)
    assert world.core.steps.advance(record.id).state is State.DEPLOYED
    moves = [c for c in world.forge.calls if c.startswith(("merge_branch", "fast_forward"))]
    # staging is moved to prod's merge; dev gets staging (so it is never behind staging)
    assert moves == ["fast_forward staging", "fast_forward dev",
                     f"merge_branch {record.merge_sha}->dev"]


def test_rollback_and_freeze_are_said_on_the_pull_requests_they_concern(world: World) -> None:
    # a promotion to staging merges and deploys; then staging is rolled back past it
    before = world.forge.heads["staging"]
    world.workspace.history["staging"] = [before]
    sha = world.push_dev()
    promotion = world.requested("staging")
    world.forge.set_check(sha, "ci", "success")
    world.forge.review(promotion.pr_number, REVIEWER)
    promotion = world.core.steps.advance(promotion.id)
    world.workspace.history["staging"] = [promotion.merge_sha, before]
    world.cluster.deploy("myapp-staging", "staging", promotion.merge_sha)
    assert world.core.steps.advance(promotion.id).state is State.DEPLOYED
    rollback = world.core.incidents.rollback("myapp", "staging", STAKEHOLDER, to=before,
                                        reason="checkout errors")
    said = [body for number, body in world.forge.comments if number == promotion.pr_number]
    assert said[-1] == (f"Rolled back by {rollback.name} ({STAKEHOLDER}): staging "
                        f"returns to {before[:7]} (checkout errors). `/rollback undo "
                        f"{rollback.name}` brings the change back.")
    # a freeze is said on the pull request of the env's live record
    rollback = world.core.steps.advance(rollback.id)
    # people by the name the front end knows (the fake directory: the id itself), never `@id`
    world.core.holds.freeze("myapp", "staging", STAKEHOLDER2, "release week")
    assert world.forge.comments[-1] == (rollback.pr_number, f"staging is frozen by "
                                        f"{STAKEHOLDER2} (release week): no promotion into it "
                                        f"starts until /promote unfreeze staging.")
    assert world.core.holds.unfreeze("myapp", "staging", STAKEHOLDER2)
    assert world.forge.comments[-1] == (rollback.pr_number, f"staging is no longer frozen "
                                        f"({STAKEHOLDER2}).")


def test_retry_starts_a_finished_record_over_as_a_new_one_of_its_kind(world: World) -> None:
    world.push_dev()
    first = world.core.commands.request("myapp", "staging", DEVELOPER, rollback_plan="revert it")
    with pytest.raises(NotAllowed) as still:
        world.core.incidents.retry(first.id, STAKEHOLDER)
    assert sentence(still.value.reason) == (
        f"{first.name} is still awaiting gates: there is nothing to retry yet")
    world.core.commands.cancel(first.id, DEVELOPER)
    again = world.core.incidents.retry(first.id, STAKEHOLDER)
    assert (again.kind, again.env, again.requested_by, again.rollback_plan) == (
        Kind.PROMOTION, "staging", STAKEHOLDER, "revert it")
    assert again.id != first.id

    world.core.incidents.hotfix_start("myapp", "login", DEVELOPER)
    world.forge.push("hotfix/login")
    hotfix = world.core.incidents.hotfix_promote("myapp", "login", DEVELOPER)
    world.core.commands.cancel(hotfix.id, DEVELOPER)
    redo = world.core.incidents.retry(hotfix.id, DEVELOPER)
    assert (redo.kind, redo.source_branch) == (Kind.HOTFIX, "hotfix/login")


def test_a_freeze_or_a_hold_is_lifted_only_by_its_author_a_stakeholder_or_on_call(
        world: World, refuse) -> None:  # type: ignore[no-untyped-def]
    world.core.holds.freeze("myapp", "prod", STAKEHOLDER2, "release week")
    text = refuse(NotAllowed, world.core.holds.unfreeze, "myapp", "prod", REVIEWER)
    assert text == (f"unfreezing prod needs whoever froze it, or the stakeholder or on-call "
                    f"role: ask <@{STAKEHOLDER2}>, <@{DEVELOPER}>, <@{STAKEHOLDER}> or "
                    f"<@{ONCALL}>")
    assert world.core.holds.unfreeze("myapp", "prod", ONCALL)
    _, previous, _ = with_history(world, "staging")
    world.core.incidents.rollback("myapp", "staging", REVIEWER, to=previous)
    text = refuse(NotAllowed, world.core.holds.unlock, "myapp", "staging", OUTSIDER)
    assert text.startswith(f"lifting the hold on staging needs whoever placed the hold, or the "
                           f"stakeholder or on-call role: ask <@{REVIEWER}>, ")
    assert world.core.holds.unlock("myapp", "staging", REVIEWER)


def test_a_sync_interrupted_by_a_crash_is_finished_on_resume(world: World) -> None:
    sha = world.forge.push("staging")
    world.cluster.deploy("myapp-staging", "staging", sha)
    record = world.core.steps.advance(world.core.commands.request("myapp", "prod", DEVELOPER,
                                                       rollback_plan="revert").id)
    world.forge.set_check(sha, "ci", "success")
    world.forge.review(record.pr_number, REVIEWER)
    world.core.commands.approve(record.id, STAKEHOLDER, sha)
    record = world.store.get(record.id)
    world.cluster.deploy("myapp-prod", "prod", record.merge_sha)
    original = world.core.aftercare.run

    def crash(_record):  # type: ignore[no-untyped-def]
        raise SystemExit("the process died right after the deploy was recorded")

    world.core.aftercare.run = crash  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        world.core.steps.advance(record.id)
    assert world.store.get(record.id).state is State.DEPLOYED
    assert world.store.aftercare_due() == [record.id]
    assert not [c for c in world.forge.calls if c.startswith(("merge_branch", "fast_forward"))]
    world.core.aftercare.run = original  # type: ignore[method-assign]
    world.core.runner.resume()  # the next process
    moves = [c for c in world.forge.calls if c.startswith(("merge_branch", "fast_forward"))]
    assert moves == ["fast_forward staging", "fast_forward dev"]
    assert world.store.aftercare_due() == []


def test_records_that_are_gone_or_finished_leave_the_aftercare_set_on_resume(
        world: World) -> None:
    world.cluster.deploy("myapp-dev", "dev", world.forge.push("dev"))
    record = world.core.commands.request("myapp", "staging", DEVELOPER)
    world.core.commands.cancel(record.id, DEVELOPER)
    world.store.mark_aftercare(record.id)  # marked, then cancelled: nothing left to align
    world.store.mark_aftercare(9999)  # a record Redis no longer has
    world.core.runner.resume()
    assert world.store.aftercare_due() == []
    assert not [c for c in world.forge.calls if c.startswith(("merge_branch", "fast_forward"))]


def test_hotfix_is_not_refused_while_staging_only_re_reconciles(world: World) -> None:
    world.core.incidents.hotfix_start("myapp", "login", DEVELOPER)
    world.forge.push("hotfix/login")
    staging = world.cluster.kustomizations["myapp-staging"]
    world.cluster.set_status("myapp-staging", ready="Unknown", reason="Progressing",
                             message="Reconciliation in progress",
                             applied=staging.last_applied_revision)
    record = world.core.incidents.hotfix_promote("myapp", "login", DEVELOPER)
    assert record.kind is Kind.HOTFIX


def test_merge_commits_say_what_they_merge(world: World) -> None:
    titles: list[str] = []
    original = world.forge.merge_pull

    def recording(repo: str, number: int, sha: str, title: str) -> str:
        titles.append(title)
        return original(repo, number, sha, title)

    world.forge.merge_pull = recording  # type: ignore[method-assign]
    world.core.incidents.hotfix_start("myapp", "login", DEVELOPER)
    fix = world.forge.push("hotfix/login")
    record = world.hotfix_promoted("login")
    world.forge.set_check(fix, "ci", "success")
    world.forge.review(record.pr_number, REVIEWER)
    world.core.commands.set_rollback_plan(record.id, DEVELOPER, "revert it")
    world.core.commands.approve(record.id, STAKEHOLDER, fix)
    assert titles == [f"Hotfix hotfix/login into prod ({fix[:7]}) [{record.name}] "
                      f"(#{record.pr_number})"]


def _holding_incidents_to_windows(world: World) -> World:
    """The same world, its pipeline saying incidentsWaitForWindow: true on every env."""
    app = load_pipeline(None).app("myapp")
    envs = tuple(replace(e, gates=replace(e.gates, incidents_wait_for_window=True))
                 for e in app.environments)
    pipeline = replace(load_pipeline(None), apps={"myapp": replace(app, environments=envs)})
    return replace(world, core=build_core(pipeline, world.store, world.forge, world.cluster,
                                          world.directory, world.notifier, world.clock,
                                          world.workspace))


def test_an_emergency_rollback_on_a_saturday_is_not_held_by_the_window(world: World) -> None:
    _, previous, _ = with_history(world, "prod")
    world.clock.advance(days=3)  # Saturday noon: prod's window opens on Monday
    record = world.core.incidents.rollback("myapp", "prod", ONCALL, to=previous, emergency=True,
                                           channel="C0INCIDENT")
    record = world.core.steps.advance(record.id)
    assert record.state is State.RECONCILING and record.merge_not_before is None
    assert world.forge.heads["prod"] == record.merge_sha


def test_a_pipeline_can_hold_incidents_to_the_change_windows(world: World, refuse) -> None:  # type: ignore[no-untyped-def]
    held = _holding_incidents_to_windows(world)
    _, previous, _ = with_history(held, "prod")
    held.clock.advance(days=3)  # Saturday noon
    text = refuse(NotAllowed, held.core.incidents.rollback, "myapp", "prod", ONCALL, to=previous,
                  emergency=True, channel="C0INCIDENT")
    assert text.startswith("prod's change window is closed until 2026-11-30 09:00 UTC, and "
                           "this pipeline holds emergencies to its windows"), text
    held.core.incidents.hotfix_start("myapp", "login", DEVELOPER)
    held.forge.push("hotfix/login")
    record = held.hotfix_promoted("login")
    assert "window" in {g.name for g in record.gates}  # the hotfix waits for Monday
