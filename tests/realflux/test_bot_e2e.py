"""The real bot against real Flux: promotebot.wiring.build with its Kubernetes adapter on the
real kube-apiserver (the chart's ServiceAccount and RBAC, a minted token, the API's CA), real
source-controller and kustomize-controller fetching from the GitHub emulator's git smart HTTP,
and the Slack emulator. A staging promotion, a prod promotion, a deploy whose health check
fails, and its rollback: each asserted on the final card (its text, the timeline's order) and
on what Flux itself shows (Ready, lastAppliedRevision, the bot's reconcile token handled).

One harness for the session (tests/realflux/conftest.py) and one bot for this module. The
tests run in order and share the branches: each starts from the heads the one before left.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.github.server import GitHubEmulator
from sandbox.gitseed import SeededRepo, run_git
from sandbox.slack.server import SlackEmulator
from sandbox.world import serve_environment, start_slack
from slackbot.config import parse_pipeline
from slackbot.models import Kind, Promotion, State
from slackbot.pipeline import Pipeline
from slackbot.reasons import Code
from tests.e2e.conftest import DEV, Live, live_bot
from tests.e2e.test_failures import IMAGES_STAGING, STAGING_OVERLAY, green, said
from tests.e2e.test_incidents import newest, through_prod_gates
from tests.realflux import rbac
from tests.realflux.fluxobjects import GITREPO
from tests.realflux.harness import Harness
from tests.waiting import wait_for

# The harness's start-up (when this module is the session's first to need it) and real Flux's
# reconciles on a loaded machine: bounds no load exhausts, never assertions on time.
pytestmark = pytest.mark.timeout(1800)
FLUX = 420.0  # seconds: bound of a wait across a whole deploy on real Flux
REQUESTED_AT = "reconcile.fluxcd.io/requestedAt"
CLUSTER = "real"  # the pipeline's name for the real API server


@dataclass
class RealFluxWorld:
    """What the live bot helpers need of a world (tests/e2e/conftest.py), with real Flux in
    place of the simulated cluster: the harness's GitHub emulator and repository, and Slack."""

    slack: SlackEmulator
    github: GitHubEmulator
    repo: SeededRepo
    kube_api_url: str

    @property
    def bot_environment(self) -> dict[str, str]:
        return serve_environment(self.slack, self.github, self.kube_api_url)


def real_cluster_pipeline(api_url: str, token_file: Path, ca_file: Path) -> Pipeline:
    """The built-in pipeline with every env in the real API server, reached the way a
    platform team points the bot at a cluster: a URL, a token file and the API's CA."""
    data = yaml.safe_load(resources.files("slackbot").joinpath("default-pipeline.yaml")
                          .read_text())
    data["clusters"] = {CLUSTER: {"apiUrl": api_url, "tokenFile": str(token_file),
                                  "caFile": str(ca_file)}}
    for app in data["apps"].values():
        for env in app["environments"]:
            env["cluster"] = CLUSTER
    return parse_pipeline(yaml.safe_dump(data, sort_keys=False))


@pytest.fixture(scope="module")
def live(realflux: Harness, redis_url: str,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The real bot with the chart's RBAC (its own release name, beside test_rbac's)."""
    assert realflux.plane is not None and realflux.github is not None
    assert realflux.repo is not None
    workdir = tmp_path_factory.mktemp("bot-e2e")
    admin = realflux.admin()
    docs = rbac.chart_identity("pb-e2e")
    rbac.apply(admin, docs)
    token = rbac.mint_token(admin, docs)
    rbac.wait_effective(realflux.plane.client(token), docs)
    token_file = workdir / "token"
    token_file.write_text(token)
    pipeline = real_cluster_pipeline(realflux.plane.url, token_file, realflux.plane.pki.ca_cert)
    slack = start_slack()
    try:
        world = RealFluxWorld(slack, realflux.github, realflux.repo, realflux.plane.url)
        with live_bot(world, redis_url, pipeline, workdir) as running:  # type: ignore[arg-type]
            yield running
    finally:
        slack.stop()


# -- helpers ---------------------------------------------------------------------------------


def push_dev(realflux: Harness, files: dict[str, str], message: str) -> str:
    """A developer's push to dev, fetched at once as a GitHub webhook to Flux's Receiver would
    ask; returns once dev runs it."""
    sha = realflux.push("dev", files, message)
    realflux.annotate(GITREPO, "dev")
    realflux.wait_applied("dev", sha)
    return sha


def flux_shows_deployed(realflux: Harness, record: Promotion) -> dict[str, Any]:
    """Real Flux's own status: the env's Kustomization Ready at the record's merge, and the
    bot's reconcile token on the source and on the Kustomization, both handled."""
    env, token = record.env, record.reconcile_token
    assert token is not None
    ks = realflux.wait_applied(env, record.merge_sha or "", timeout=FLUX)
    assert ks["status"]["lastAppliedRevision"] == record.expected_revision
    source = realflux.git_repository(env)
    assert source["status"]["artifact"]["revision"] == record.expected_revision
    assert source["metadata"]["annotations"][REQUESTED_AT] == token
    assert source["status"]["lastHandledReconcileAt"] == token
    assert ks["metadata"]["annotations"][REQUESTED_AT] == token
    handled: dict[str, Any] = realflux.wait_until(
        lambda: (k := realflux.kustomization(env))["status"].get("lastHandledReconcileAt")
        == token and k, f"{env}'s Kustomization to handle the bot's request", timeout=FLUX)
    return handled


def final_card(live: Live, record: Promotion, needle: str) -> str:
    """The card once it shows `needle` (Slack's pace may fold steps into one update)."""
    def shown() -> str | None:
        text = live.card_text(record.id)
        return text if needle in text else None

    return str(wait_for(shown, f"{record.name}'s card to say {needle!r}"))


def in_order(text: str, lines: list[str]) -> None:
    """Each of `lines` is in `text`, each after the one before (the timeline's order)."""
    at = -1
    for line in lines:
        found = text.find(line, at + 1)
        assert found > at, f"{line!r} not after the line before in:\n{text}"
        at = found


def told(live: Live, user: str, needle: str) -> str:
    """The ephemeral answer to `user` that says `needle`; failing, every answer it got."""
    try:
        return str(wait_for(lambda: next((t for t in live.ephemerals(user) if needle in t),
                                         None), f"an answer saying {needle!r}", timeout=FLUX))
    except pytest.fail.Exception:
        pytest.fail(f"{user} was never told {needle!r}; told: {live.ephemerals(user)}")


def overlay(live: Live, rev: str) -> str:
    """Staging's overlay at `rev`, as git has it."""
    return run_git("--git-dir", str(live.world.repo.path), "show", f"{rev}:{STAGING_OVERLAY}")


PROMOTION_TIMELINE = [":inbox_tray: Requested by", ":arrows_counterclockwise: Pull request",
                      ":hourglass_flowing_sand: Waiting for the gates",
                      ":white_check_mark: Every gate is green",
                      ":twisted_rightwards_arrows: Merged", ":rocket: Deployed:"]


# -- the stories -----------------------------------------------------------------------------


def test_a_staging_promotion_deploys_on_real_flux(live: Live, realflux: Harness) -> None:
    sha = push_dev(realflux, {"apps/myapp/NOTES.md": "real flux\n"}, "A change for staging")
    live.command(DEV, "/promote staging")
    record = live.wait_state(live.live_record("staging").id, State.AWAITING_GATES)
    assert record.head_sha == sha
    green(live, record)
    done = live.wait_state(record.id, State.DEPLOYED, State.FAILED, timeout=FLUX)
    assert done.state is State.DEPLOYED, done.failure
    assert realflux.head("staging") == done.merge_sha
    flux_shows_deployed(realflux, done)
    assert realflux.deployment("staging")["status"]["readyReplicas"] >= 1
    card = final_card(live, done, ":rocket: Deployed:")
    in_order(card, PROMOTION_TIMELINE)
    assert f"staging@{done.merge_sha[:7]}" in card or done.merge_sha[:7] in card


def test_a_prod_promotion_through_its_gates_deploys_on_real_flux(live: Live,
                                                                   realflux: Harness) -> None:
    realflux.wait_applied("staging", realflux.head("staging"), timeout=FLUX)
    live.command(DEV, "/promote prod")
    done = through_prod_gates(live, live.live_record("prod"), "Revert the merge.", deploy=FLUX)
    assert realflux.head("prod") == done.merge_sha
    flux_shows_deployed(realflux, done)
    card = final_card(live, done, ":rocket: Deployed:")
    in_order(card, [":inbox_tray: Requested by", ":+1: Approved by",
                    ":memo: Rollback plan written by", ":white_check_mark: Every gate is green",
                    ":twisted_rightwards_arrows: Merged", ":rocket: Deployed:"])


def test_a_failed_health_check_then_its_rollback_on_real_flux(live: Live,
                                                              realflux: Harness) -> None:
    """A broken image in staging: real kustomize-controller fails the health check after its
    timeout (30 s, its floor) and goes on retrying it; the rollback's revert, promoted into
    staging meanwhile, is applied once the check running then is over (Flux does not cancel
    it), within the bot's deadline."""
    wait_for(lambda: not live.bot.store.aftercare_due(), "the prod deploy's aftercare",
             timeout=FLUX)
    for env in ("dev", "staging"):
        realflux.wait_applied(env, realflux.head(env), timeout=FLUX)
    good = realflux.head("staging")
    generation = realflux.patch_kustomization("staging", {"timeout": "30s"})
    try:
        realflux.wait_until(lambda: realflux.kustomization("staging")["status"].get(
            "observedGeneration") == generation, "staging's 30s timeout observed", timeout=FLUX)
        push_dev(realflux, {STAGING_OVERLAY: IMAGES_STAGING.format(tag="broken-2.0")},
                 "Ship a broken image to staging")
        live.command(DEV, "/promote staging")
        record = live.wait_state(live.live_record("staging").id, State.AWAITING_GATES)
        green(live, record)
        failed = live.wait_state(record.id, State.FAILED, State.DEPLOYED, timeout=FLUX)
        assert failed.state is State.FAILED
        assert failed.failure is not None and failed.failure.code is Code.FLUX_FAILED
        assert failed.failure.flux_reason == "HealthCheckFailed"
        # real Flux's words, copied onto the card (the duration as Go prints it: 30.56...s)
        assert re.search(r"HealthCheckFailed: health check failed after 30(\.\d+)?s: timeout "
                         r"waiting for: \[Deployment/staging/myapp", said(failed)), said(failed)
        ks = realflux.kustomization("staging")
        assert ks["status"]["lastAttemptedRevision"] == failed.expected_revision
        failed_card = final_card(live, failed, ":x: Failed:")
        in_order(failed_card, [*PROMOTION_TIMELINE[:-1], ":x: Failed:"])
        assert "health check failed after 30" in failed_card

        # a planned rollback lands where the change came from: a revert pushed to dev, then
        # promoted up into staging, over the broken revision's health checks Flux runs on
        live.command(DEV, f"/rollback staging to {good[:7]} the image does not start")
        told(live, DEV, "the revert lands on dev, the lowest env that has the change")
        rollback = live.wait_state(newest(live, "dev", Kind.ROLLBACK).id, State.DEPLOYED,
                                   State.FAILED, timeout=FLUX)
        assert rollback.state is State.DEPLOYED, rollback.failure
        assert rollback.rollback is not None and rollback.rollback.asked_env == "staging"
        assert overlay(live, rollback.merge_sha or "") == overlay(live, good)
        flux_shows_deployed(realflux, rollback)
        card = final_card(live, rollback, ":rocket: Deployed:")
        in_order(card, [":inbox_tray: Requested by", ":leftwards_arrow_with_hook: Revert pushed",
                        ":rocket: Deployed:"])

        live.command(DEV, "/promote staging")
        up = live.wait_state(live.live_record("staging").id, State.AWAITING_GATES)
        green(live, up)
        back = live.wait_state(up.id, State.DEPLOYED, State.FAILED, timeout=FLUX)
        assert back.state is State.DEPLOYED, back.failure
        assert overlay(live, back.merge_sha or "") == overlay(live, good)
        flux_shows_deployed(realflux, back)
        image = realflux.deployment("staging")["spec"]["template"]["spec"]["containers"][0]
        assert not image["image"].endswith("broken-2.0")
        in_order(final_card(live, back, ":rocket: Deployed:"), PROMOTION_TIMELINE)
    finally:
        realflux.patch_kustomization("staging", {"timeout": "3m"})
