"""Failures after a promotion started, each reported on the card with its reason: a failing
check, a pull request that cannot merge, a head that moves after approval, Flux's BuildFailed
and HealthCheckFailed, and the pipeline's timeout."""

from __future__ import annotations

from handlers import ids
from handlers.messages.refusals import progress, sentence
from slackbot.models import State
from tests.e2e.conftest import DEV, STAKEHOLDER, Live, wait_for

STAGING_OVERLAY = "apps/myapp/overlays/staging/kustomization.yaml"
IMAGES_STAGING = """apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: staging
resources:
  - ../../base
images:
  - name: ghcr.io/acme/myapp
    newTag: {tag}
"""


def said(record) -> str:  # type: ignore[no-untyped-def]
    """The record's failure as people read it."""
    return sentence(record.failure)


def promote_staging(live: Live, sha: str):  # type: ignore[no-untyped-def]
    live.wait_deployed("dev", sha)
    live.command(DEV, "/promote staging")
    return live.wait_state(live.live_record("staging").id, State.AWAITING_GATES)


def green(live: Live, record) -> None:  # type: ignore[no-untyped-def]
    live.world.github.set_check(record.head_sha, "ci", "success")
    live.approve_pull(record.pr_number)


def test_failing_check_fails_the_card_with_retry_and_no_rollback(live: Live) -> None:
    sha = live.push("dev", "apps/myapp/NOTES.md", "x\n", "notes")
    record = promote_staging(live, sha)
    live.world.github.set_check(sha, "ci", "failure")
    failed = live.wait_state(record.id, State.FAILED)
    assert said(failed) == f"ci failed on {sha[:7]}: fix it on dev, then /promote staging again"
    wait_for(lambda: "ci failed" in live.card_text(record.id), "the card to say so")
    actions = {e["action_id"] for b in live.card(record.id)["blocks"] if b["type"] == "actions"
               for e in b["elements"]}
    # nothing merged, so nothing to roll back: Retry once the check is fixed
    assert ids.RETRY in actions and ids.ROLLBACK not in actions
    assert not live.world.github.pull_request(record.pr_number)["merged"]


def test_conflict_fails_without_merging(live: Live) -> None:
    live.push("staging", "apps/myapp/NOTES.md", "staging side\n", "hotfix on staging")
    sha = live.push("dev", "apps/myapp/NOTES.md", "dev side\n", "dev change")
    record = promote_staging(live, sha)
    green(live, record)
    failed = live.wait_state(record.id, State.FAILED)
    assert said(failed).startswith(f"the pull request #{record.pr_number} cannot be merged")
    assert "resolve the conflict between dev and staging" in said(failed)
    wait_for(lambda: "cannot be merged" in live.card_text(record.id), "the card to say so")
    assert not live.world.github.pull_request(record.pr_number)["merged"]


def test_new_head_voids_the_stakeholder_approval_and_the_card_says_so(live: Live) -> None:
    sha = live.push("staging", "apps/myapp/NOTES.md", "to prod\n", "for prod")
    live.wait_deployed("staging", sha)
    live.command(DEV, "/promote prod")
    record = live.wait_state(live.live_record("prod").id, State.AWAITING_GATES)
    live.click(STAKEHOLDER, record, ids.APPROVE)
    wait_for(lambda: live.record(record.id).approvers() == (STAKEHOLDER,), "the approval")
    new_head = live.push("staging", "apps/myapp/NOTES.md", "more\n", "more for prod")
    moved = wait_for(lambda: (r := live.record(record.id)).head_sha == new_head and r,
                     "the head move to be seen")
    assert moved.approvers() == ()
    assert moved.state is State.AWAITING_GATES
    wait_for(lambda: "no longer count" in live.card_text(record.id), "the card to say so")


def test_build_failed_after_the_merge_is_reported(live: Live) -> None:
    broken = IMAGES_STAGING.replace("resources:\n  - ../../base", "resources:\n  - ../../missing")
    sha = live.push("dev", STAGING_OVERLAY, broken.format(tag="1.0.0"), "break staging overlay")
    record = promote_staging(live, sha)
    green(live, record)
    failed = live.wait_state(record.id, State.FAILED)
    assert "BuildFailed" in said(failed) and said(failed).startswith("Flux could not apply")
    wait_for(lambda: "BuildFailed" in live.card_text(record.id), "the card to say so")


def test_health_check_failed_after_the_merge_is_reported(live: Live) -> None:
    sha = live.push("dev", STAGING_OVERLAY, IMAGES_STAGING.format(tag="broken-2.0"),
                    "ship a broken image to staging")
    record = promote_staging(live, sha)
    green(live, record)
    failed = live.wait_state(record.id, State.FAILED)
    assert "HealthCheckFailed" in said(failed)
    assert "timeout waiting for" in said(failed)


def test_timeout_of_the_pipeline_fails_a_stuck_deploy(live: Live) -> None:
    sha = live.push("dev", "apps/myapp/NOTES.md", "y\n", "notes")
    record = promote_staging(live, sha)
    custom = live.bot.cluster._custom  # suspend staging, as `flux suspend ks` does
    custom.patch_namespaced_custom_object("kustomize.toolkit.fluxcd.io", "v1", "flux-system",
                                          "kustomizations", "myapp-staging",
                                          {"spec": {"suspend": True}})
    green(live, record)
    waiting = wait_for(lambda: (r := live.record(record.id)).progress is not None
                       and progress(r.progress).endswith("is suspended: resume it to deploy")
                       and r, "the suspended note")
    assert waiting.state is State.RECONCILING
    # the pipeline says 3m, staging's Kustomization 3m: the bot allows Flux two health checks
    # and a minute (verdict.deploy_deadline), as a running one is not cancelled
    live.clock.jump(minutes=7, seconds=10)
    failed = live.wait_state(record.id, State.FAILED)
    assert said(failed).startswith(f"staging did not apply staging@{failed.merge_sha[:7]} "
                                     "within 7m")
