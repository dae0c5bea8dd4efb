"""No silent loss, no silent return (issue 15, point 1), through the real bot on the emulated
world: ship A, A breaks prod, on-call reverts prod in an emergency, ship B, bring A back. The
files of every branch are read from git at every step: a change leaves a branch only on a card
that lists it, and a change reverted on prod returns only when a person asks for it."""

from __future__ import annotations

from handlers import ids
from sandbox.world import INCIDENTS
from slackbot.events import RevertCarried
from slackbot.models import Kind, State
from tests.e2e.conftest import DEV, ONCALL, Live, wait_for
from tests.e2e.story import (
    PROD_OVERLAY,
    files,
    has,
    overlay_with_tag,
    promote_prod,
    promote_staging,
    push_files,
    synced,
    working_notes,
)
from tests.e2e.test_incidents import (
    DEPLOY,
    card_with,
    choose_in_dialog,
    git,
    head,
    newest,
    through_prod_gates,
)

A, B = "apps/myapp/A.md", "apps/myapp/B.md"
ENVS = ("dev", "staging", "prod")


def contents(live: Live) -> dict[str, tuple[bool, bool, bool]]:
    """Per branch: (has A's file, has A's image tag, has B's file)."""
    return {env: (has(live, env, A), has(live, env, PROD_OVERLAY, "newTag: broken-a"),
                  has(live, env, B)) for env in ENVS}


def test_ship_a_break_prod_roll_back_ship_b_and_bring_a_back(live: Live) -> None:
    # -- ship A: a feature whose prod overlay pins an image that crashes in prod ---------------
    a = push_files(live, "dev", {A: "feature A\n",
                                 PROD_OVERLAY: overlay_with_tag(live, "broken-a")},
                   "Feature A: the new cache (ABC-101)")
    live.wait_deployed("dev", a)
    promote_staging(live)
    live.command(DEV, "/promote prod")
    failed = through_prod_gates(live, live.live_record("prod"), "revert it", State.FAILED)
    assert failed.failure is not None and failed.failure.flux_reason == "HealthCheckFailed"
    assert contents(live) == {env: (True, True, False) for env in ENVS}  # A is everywhere

    # -- on-call reverts prod in the incident channel ---------------------------------------------
    live.command(ONCALL, "/rollback prod emergency the cache crashloops", channel=INCIDENTS)
    before = git(live, "rev-parse", f"{failed.merge_sha}^1")  # prod before A
    choose_in_dialog(live, ONCALL, before, "crashloop")
    rollback = live.wait_state(newest(live, "prod", Kind.ROLLBACK).id, State.DEPLOYED,
                               State.FAILED, timeout=DEPLOY)
    assert rollback.state is State.DEPLOYED, rollback.failure
    assert live.deployed("prod", rollback.merge_sha)
    # the same revert is carried down to staging and dev, each listed on the card
    card = wait_for(lambda: (t := live.card_text(rollback.id)).count("Carried down:") == 2 and t,
                    "the revert carried down to staging and dev")
    for env in ("staging", "dev"):
        assert f"Carried down: the revert is on {env} as" in card
    assert "it removes “Feature A: the new cache (ABC-101)” there" in card
    carried = [e.facts for e in live.bot.store.events(rollback.id)
               if isinstance(e.facts, RevertCarried)]
    assert {(f.base, f.sha == head(live, f.base)) for f in carried} == {("staging", True),
                                                                       ("dev", True)}
    assert all(set(f.files) == {A, PROD_OVERLAY} for f in carried)
    assert contents(live) == {env: (False, False, False) for env in ENVS}  # A is nowhere
    live.wait_deployed("staging", head(live, "staging"))
    live.wait_deployed("dev", head(live, "dev"))

    # -- ship B: A does not come back with it, and the sync deletes nothing ------------------------
    live.command(ONCALL, "/promote unlock prod", channel=INCIDENTS)
    wait_for(lambda: not live.bot.store.blocks("myapp", "prod"), "the hold lifted")
    b = push_files(live, "dev", {B: "fix B\n"}, "Fix B: retry the checkout (#45)")
    live.wait_deployed("dev", b)
    promote_staging(live)
    shipped = promote_prod(live)
    synced(live, shipped)
    assert contents(live) == {env: (False, False, True) for env in ENVS}
    assert head(live, "staging") == head(live, "dev") == shipped.merge_sha  # fast-forwarded

    # -- bring A back: a person asks for it, it lands on dev and is promoted up --------------------
    live.command(DEV, f"/rollback undo {rollback.name}")
    undo = live.wait_state(newest(live, "dev", Kind.ROLLBACK).id, State.DEPLOYED, State.FAILED,
                           timeout=DEPLOY)
    assert undo.state is State.DEPLOYED, undo.failure
    assert undo.rollback is not None and undo.rollback.undoes == rollback.id
    assert contents(live) == {"dev": (True, True, True), "staging": (False, False, True),
                              "prod": (False, False, True)}
    card_with(live, undo, f"What {rollback.name} removed is back on dev")
    fixed = push_files(live, "dev", {PROD_OVERLAY: overlay_with_tag(live, "cache-1.1")},
                       "Feature A: a cache image that runs (ABC-101)")
    live.wait_deployed("dev", fixed)
    promote_staging(live)
    assert has(live, "staging", A) and not has(live, "prod", A)  # no silent return to prod
    back = promote_prod(live)
    synced(live, back)
    assert {env: files(live, env)[A] for env in ENVS} == {env: "feature A" for env in ENVS}
    assert all(has(live, env, B) and not has(live, env, PROD_OVERLAY, "broken")
               for env in ENVS)
    assert live.deployed("prod", back.merge_sha)
    assert working_notes(live, DEV) == [] and working_notes(live, ONCALL) == []
    assert ids.ROLLBACK not in {e.get("action_id") for b_ in live.card(back.id)["blocks"]
                                if b_.get("type") == "actions" for e in b_["elements"]}

