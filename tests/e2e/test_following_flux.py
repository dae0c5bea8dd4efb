"""Verdicts that follow Flux (issue 15, point 4), through the real bot on the emulated world:
a source env reconciling the very head being promoted is waited for, bounded and shown on the
card, not refused; a deploy that failed its health check is still watched, and when Flux
applies the revision Ready on a retry the card says it recovered and the branches below are
aligned. The emulated Flux's clock is held and released, never raced."""

from __future__ import annotations

from sandbox.gitseed import run_git
from slackbot.events import Recovered
from slackbot.models import State
from tests.e2e.conftest import DEV, Live, wait_for
from tests.e2e.story import PROD_OVERLAY, overlay, overlay_with_tag, push_files, synced
from tests.e2e.test_incidents import DEPLOY, card_with, head, through_prod_gates


def test_promote_prod_while_staging_applies_that_head_waits_for_it(live: Live) -> None:
    # a new image for staging: applying it means new pods, which take Flux's (held) time
    change = push_files(live, "dev", {overlay("staging"): overlay_with_tag(live, "1.0.1", "dev",
                                                                         "staging")},
                        "staging: image 1.0.1")
    live.wait_deployed("dev", change)
    live.command(DEV, "/promote staging")
    staging = live.wait_state(live.live_record("staging").id, State.AWAITING_GATES)
    clock = live.world.cluster.simulator.clock
    clock.hold()  # Flux's time stands still: once merged, staging stays on its way to it
    try:
        live.world.github.set_check(staging.head_sha, "ci", "success")
        live.approve_pull(staging.pr_number)
        merged = live.wait_state(staging.id, State.RECONCILING)
        live.command(DEV, "/promote prod")  # a second after staging merged
        prod = live.live_record("prod")  # recorded, not refused
        assert prod.head_sha == merged.merge_sha and prod.source_until is not None
        card_with(live, prod, "waited for until")
        assert not live.record(prod.id).gate("source").passed
        assert not live.deployed("staging", merged.merge_sha)
    finally:
        clock.release()
    live.wait_state(staging.id, State.DEPLOYED, timeout=DEPLOY)
    wait_for(lambda: (g := live.record(prod.id).gate("source")) is not None and g.passed,
             "prod's source gate to pass once staging is Ready", timeout=DEPLOY)
    assert live.record(prod.id).source_until is None  # the bound no longer applies
    card_with(live, prod, f"staging runs {merged.merge_sha[:7]} and is Ready")


def test_a_failed_health_check_that_flux_later_passes_recovers_and_syncs(live: Live) -> None:
    # prod's pods start slowly; with a 30s health check Flux fails the first attempt and
    # passes a retry once the pods are up: the same revision, applied Ready a little later
    slow = push_files(live, "staging", {PROD_OVERLAY: overlay_with_tag(live, "slow-2.0",
                                                                       "staging")},
                      "prod: a slower image")
    live.wait_deployed("staging", slow)
    custom = live.bot.cluster._custom
    custom.patch_namespaced_custom_object("kustomize.toolkit.fluxcd.io", "v1", "flux-system",
                                          "kustomizations", "myapp-prod",
                                          {"spec": {"timeout": "30s"}})
    live.command(DEV, "/promote prod")
    failed = through_prod_gates(live, live.live_record("prod"), "revert it", State.FAILED)
    assert failed.failure.flux_reason == "HealthCheckFailed"
    recovered = live.wait_state(failed.id, State.DEPLOYED, timeout=DEPLOY)
    assert recovered.recovered_at is not None and recovered.failure is not None
    assert live.deployed("prod", recovered.merge_sha)
    [fact] = [e.facts for e in live.bot.store.events(failed.id) if isinstance(e.facts, Recovered)]
    assert fact.after == "HealthCheckFailed"
    card = card_with(live, recovered, "recovered at")
    assert "*Deployed to prod*: recovered at" in card and "after HealthCheckFailed" in card
    synced(live, recovered)  # what follows a deploy ran: staging and dev are aligned
    assert head(live, "staging") == head(live, "dev") == recovered.merge_sha
    assert run_git("--git-dir", str(live.world.repo.path), "rev-parse",
                   "refs/heads/prod") == recovered.merge_sha
