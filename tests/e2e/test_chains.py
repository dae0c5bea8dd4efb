"""Dependency chains with the root named (issue 15, point 3), through the real bot on the
emulated world, where staging dependsOn dev and prod dependsOn staging: with dev broken all
three report DependencyNotReady, and every refusal and card names dev, its reason, and the
remedy that works, with a button for it. An emergency rollback of prod is not refused: it says
what Flux will and will not do, and offers dev's rollback in the same message."""

from __future__ import annotations

import re
from typing import Any

from handlers import ids
from sandbox.world import INCIDENTS
from slackbot.models import Kind, State
from tests.e2e.conftest import DEV, ONCALL, Live, blocks_text, card_actions, wait_for
from tests.e2e.story import push_files
from tests.e2e.test_incidents import DEPLOY, choose_in_dialog, head, newest, tree

BROKEN_DEV = ("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
              "resources:\n  - ../../nowhere\n")


def answer_with_button(live: Live, user: str, needle: str) -> dict[str, Any]:
    """The user's ephemeral that says `needle`, once it is there (blocks included)."""
    return wait_for(lambda: next((m for m in live.world.slack.ephemerals(user)
                                  if needle in m.get("text", "")), None),
                    f"an answer to {user} saying {needle!r}")


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["action_id"], e["text"]["text"]) for b in message.get("blocks") or []
            if b.get("type") == "actions" for e in b["elements"]]


def test_a_broken_dev_is_named_as_the_root_and_rolled_back_from_the_prod_incident(
        live: Live) -> None:
    good = push_files(live, "prod", {"apps/myapp/NOTES.md": "good\n"}, "prod: good notes")
    bad = push_files(live, "prod", {"apps/myapp/NOTES.md": "bad\n"}, "prod: bad notes")
    live.wait_deployed("prod", bad)
    healthy_dev = head(live, "dev")
    broke = push_files(live, "dev", {"apps/myapp/overlays/dev/kustomization.yaml": BROKEN_DEV},
                       "dev: a broken overlay")
    wait_for(lambda: live.flux("dev").reason == "BuildFailed"
             and live.flux("dev").last_attempted_revision == f"dev@sha1:{broke}", "dev failing")
    wait_for(lambda: all(live.flux(env).reason == "DependencyNotReady"
                         for env in ("staging", "prod")), "staging and prod waiting on dev",
             timeout=DEPLOY)

    # a refusal names dev, not staging, with the remedy that works and its button
    live.command(DEV, "/promote prod")
    refusal = answer_with_button(live, DEV, "staging waits on dev, the first env of its chain")
    # Flux's reason for dev as it is at that moment: BuildFailed, or Progressing while it
    # retries the build (each retryInterval; a loaded machine can catch it mid-retry)
    assert re.search(r"\((BuildFailed|Progressing): ", refusal["text"]), refusal["text"]
    assert "roll dev back (`/rollback dev`) or fix it" in refusal["text"]
    assert buttons(refusal) == [(ids.ROLLBACK_ROOT, "Roll back dev")]
    assert live.bot.store.live("myapp", "prod") is None

    # on-call's emergency rollback of prod goes ahead, saying what Flux will and will not do
    live.command(ONCALL, f"/rollback prod emergency to {good[:7]} bad notes", channel=INCIDENTS)
    said = answer_with_button(live, ONCALL, "Flux applies prod only once its dependsOn chain")
    # Flux's own reason for dev: BuildFailed, or Progressing while it retries the build
    assert re.search(r"dev is not \((BuildFailed|Progressing): ", said["text"]), said["text"]
    assert "prod keeps running what it runs until then" in said["text"]
    assert buttons(said) == [(ids.ROLLBACK_ROOT, "Roll back dev")]
    rollback = newest(live, "prod", Kind.ROLLBACK)
    revert = live.wait_state(rollback.id, State.RECONCILING).merge_sha
    assert head(live, "prod") == revert and tree(live, revert) == tree(live, good)
    assert live.flux("prod").last_applied_revision == f"prod@sha1:{bad}"  # Flux waits
    card = wait_for(lambda: ids.ROLLBACK_ROOT in card_actions(live.card(rollback.id))
                    and live.card(rollback.id), "the card's button for dev's rollback")
    assert live.card_ref(rollback.id)[0] == INCIDENTS  # the card is where the incident is
    text = blocks_text(card["blocks"])
    assert "Waiting for dev, the first env of the chain that is not Ready (" in text, text

    # the card's button opens dev's rollback: dev is fixed, and Flux applies the chain
    live.click(ONCALL, rollback, ids.ROLLBACK_ROOT)
    choose_in_dialog(live, ONCALL, healthy_dev, "the overlay is broken")
    dev_fix = live.wait_state(newest(live, "dev", Kind.ROLLBACK).id, State.DEPLOYED,
                              State.FAILED, timeout=DEPLOY)
    assert dev_fix.state is State.DEPLOYED, dev_fix.failure
    assert tree(live, "dev") == tree(live, healthy_dev)
    done = live.wait_state(rollback.id, State.DEPLOYED, timeout=DEPLOY)
    assert live.deployed("prod", done.merge_sha)
    # the chain settles: staging may still be between its retries of the dependency a moment
    # after prod's verdict (failed once, read once, in a loaded fresh-clone run)
    wait_for(lambda: all(live.flux(env).is_ready for env in ("dev", "staging", "prod")),
             "every env of the chain Ready", timeout=DEPLOY)
