"""The incident side of the workflow, driven from Slack through the real bot on the emulated
world, each result checked in git (world.repo.path) and in the cluster: a dev rollback pushed
as a revert; a staging revert pull request through staging's gates, started from the
rollback dialog (a card that failed before its merge offers no Rollback: nothing changed); a
prod promotion whose branches below are fast-forwarded to it, then reverted in an emergency by
the on-call responder in the incident channel, its revert carried down; a hotfix through
prod's gates and backported. And the refusals, each with its reason and nothing changed: an
emergency outside the incident channel or by someone not on call, a revision the env never
ran, a promotion into an env under a hold or a freeze."""

from __future__ import annotations

import subprocess
from typing import Any

from handlers import ids
from sandbox.gitseed import git_env, run_git
from sandbox.world import INCIDENTS
from slackbot.events import Synced
from slackbot.models import Kind, Promotion, State
from tests.e2e.conftest import (
    DEV,
    ONCALL,
    STAKEHOLDER,
    Live,
    card_actions,
    wait_for,
)

DEPLOY = 120.0  # bound of a wait across a whole deploy (a merge, Flux, a rollout, a sync)

# -- git on the world's repository ------------------------------------------------------------


def git(live: Live, *args: str) -> str:
    return run_git(*args, cwd=live.world.repo.path)


def head(live: Live, branch: str) -> str:
    return git(live, "rev-parse", f"refs/heads/{branch}")


def tree(live: Live, rev: str) -> str:
    return git(live, "rev-parse", f"{rev}^{{tree}}")


def is_ancestor(live: Live, commit: str, branch: str) -> bool:
    done = subprocess.run(
        ["git", "merge-base", "--is-ancestor", commit, f"refs/heads/{branch}"],
        cwd=live.world.repo.path, env=git_env(), capture_output=True, check=False)
    return done.returncode == 0


# -- the bot's records and what people see -------------------------------------------------------


def newest(live: Live, env: str, kind: Kind) -> Promotion:
    def found() -> Promotion | None:
        return next((p for p in live.bot.store.history("myapp", env, 5) if p.kind is kind), None)

    return wait_for(found, f"a {kind.value} of {env}")


def ephemeral(live: Live, user: str, needle: str) -> str:
    def found() -> str | None:
        return next((t for t in live.ephemerals(user) if needle in t), None)

    try:
        return str(wait_for(found, f"an ephemeral for {user} with {needle!r}"))
    except BaseException as failure:  # say what the user did see, to explain the miss
        raise AssertionError(f"{failure}\n{user} saw: {live.ephemerals(user)[-6:]}") from None


def said_in(live: Live, channel: str, needle: str) -> str:
    return wait_for(lambda: next((m["text"] for m in live.world.slack.history(channel)
                                  if needle in m.get("text", "")), None),
                    f"{needle!r} in {channel}")


def records(live: Live) -> list[tuple[int, str, str]]:
    return sorted((p.id, p.env, p.state.value) for env in ("dev", "staging", "prod")
                  for p in live.bot.store.history("myapp", env, 50))


def event_kinds(live: Live, record: Promotion) -> list[str]:
    """The record's events by kind; a sync after a hotfix is a backport."""
    return ["backported" if isinstance(e.facts, Synced) and e.facts.backport else e.kind
            for e in live.bot.store.events(record.id)]


def card_with(live: Live, record: Promotion, needle: str) -> str:
    """The card's text once it shows `needle` (the card is updated just after the record)."""
    def shown() -> str | None:
        text = live.card_text(record.id)
        return text if needle in text else None

    return wait_for(shown, f"{needle!r} on the card of {record.name}")


def through_prod_gates(live: Live, record: Promotion, plan: str,
                       expect: State = State.DEPLOYED, deploy: float = DEPLOY) -> Promotion:
    """A reviewer's approval and a passing check on GitHub, sam's approval in Slack, dana's
    rollback plan in the modal; then the merge, inside Wednesday's change window; the record
    once it ended `expect` (`deploy`: the bound of the wait for the deploy)."""
    record = live.wait_state(record.id, State.AWAITING_GATES)
    live.world.github.set_check(record.head_sha, "ci", "success")
    live.approve_pull(record.pr_number)
    live.click(STAKEHOLDER, record, ids.APPROVE)
    wait_for(lambda: live.record(record.id).approvers() == (STAKEHOLDER,), "sam's approval")
    live.click(DEV, record, ids.ADD_PLAN)
    view = wait_for(lambda: [v for v in live.world.slack.open_views(DEV)
                             if v.get("callback_id") == ids.PLAN_VIEW], "the plan modal")[-1]
    live.world.slack.submit(DEV, view["id"], {ids.PLAN_BLOCK: {ids.PLAN_INPUT: plan}})
    done = live.wait_state(record.id, State.DEPLOYED, State.FAILED, timeout=deploy)
    assert done.state is expect, done.failure
    return done


def choose_in_dialog(live: Live, user: str, sha: str, reason: str) -> dict[str, Any]:
    view = wait_for(lambda: next((v for v in live.world.slack.open_views(user)
                                  if any(b.get("block_id") == ids.ROLLBACK_CHOICE_BLOCK
                                         for b in v.get("blocks", []))), None),
                    "the rollback dialog with its choices")
    select = next(b for b in view["blocks"] if b.get("block_id") == ids.ROLLBACK_CHOICE_BLOCK)
    assert sha in [o["value"] for o in select["element"]["options"]]
    result = live.world.slack.submit(user, view["id"], {
        ids.ROLLBACK_CHOICE_BLOCK: {ids.ROLLBACK_CHOICE_INPUT: sha},
        ids.ROLLBACK_REASON_BLOCK: {ids.ROLLBACK_REASON_INPUT: reason}})
    assert result["ok"] and result["status"] == 200, result
    return view


# -- the tests -------------------------------------------------------------------------------------


def test_dev_rollback_pushes_a_revert_that_flux_applies(live: Live) -> None:
    good = live.push("dev", "apps/myapp/NOTES.md", "good\n", "A good change")
    bad = live.push("dev", "apps/myapp/NOTES.md", "bad\n", "A bad change")
    live.wait_deployed("dev", bad)

    before = (head(live, "staging"), records(live))
    live.command(DEV, f"/rollback staging to {bad[:9]}")  # staging never ran a dev commit
    ephemeral(live, DEV, f"staging never ran {bad[:9]}: /rollback staging without a revision")
    assert (head(live, "staging"), records(live)) == before
    assert live.bot.store.blocks("myapp", "staging") == []

    live.command(DEV, f"/rollback dev to {good[:7]} the bad change broke checkout")
    ephemeral(live, DEV, f"Rollback R-1 of myapp dev to `{good[:7]}` has started")
    record = live.wait_state(newest(live, "dev", Kind.ROLLBACK).id, State.DEPLOYED, State.FAILED)
    assert record.state is State.DEPLOYED, record.failure
    revert = record.merge_sha
    assert head(live, "dev") == revert
    assert git(live, "rev-parse", f"{revert}^") == bad  # on top of the old head
    assert tree(live, revert) == tree(live, good)  # with the content of the chosen revision
    assert live.deployed("dev", revert)  # applied and Ready
    card = card_with(live, record, "*dev is back to")
    assert f"Rollback {record.name}: myapp dev → {good[:7]}" in card
    assert f"Revert pushed as `{revert[:7]}`" in card and "*dev is back to" in card
    assert event_kinds(live, record)[:4] == ["requested", "hold", "reverting", "reverted"]


def test_staging_revert_pull_request_through_the_rollback_dialog(live: Live) -> None:
    world = live.world
    good = live.push("staging", "apps/myapp/NOTES.md", "v1\n", "staging v1")
    bad = live.push("staging", "apps/myapp/NOTES.md", "v2\n", "staging v2")
    live.wait_deployed("staging", bad)
    change = live.push("dev", "apps/myapp/OTHER.md", "x\n", "next change")
    live.wait_deployed("dev", change)
    live.command(DEV, "/promote staging")
    failed = live.wait_state(live.live_record("staging").id, State.AWAITING_GATES)
    world.github.set_check(change, "ci", "failure")
    failed = live.wait_state(failed.id, State.FAILED)
    wait_for(lambda: ids.RETRY in card_actions(live.card(failed.id)), "the failed card")
    assert ids.ROLLBACK not in card_actions(live.card(failed.id))  # it never merged

    live.command(DEV, "/rollback staging")
    choose_in_dialog(live, DEV, good, "v2 is broken")
    ephemeral(live, DEV, "has started (a revert pull request goes through staging's gates)")
    record = live.wait_state(newest(live, "staging", Kind.ROLLBACK).id, State.AWAITING_GATES)
    pull = world.github.pull_request(record.pr_number)
    branch = f"rollback/staging-{record.id}"
    assert (pull["base"]["ref"], pull["head"]["ref"]) == ("staging", branch)
    assert git(live, "rev-parse", f"{record.head_sha}^") == bad
    assert tree(live, record.head_sha) == tree(live, good)

    world.github.set_check(record.head_sha, "ci", "success")  # staging's gates
    live.approve_pull(record.pr_number)
    record = live.wait_state(record.id, State.DEPLOYED, State.FAILED)
    assert record.state is State.DEPLOYED, record.failure
    assert world.github.pull_request(record.pr_number)["merged"]
    assert head(live, "staging") == record.merge_sha
    assert tree(live, record.merge_sha) == tree(live, good)
    assert live.deployed("staging", record.merge_sha)

    # the hold: the bad change is not shipped again by the next /promote, until unlocked
    before = (head(live, "staging"), records(live))
    live.command(DEV, "/promote staging")
    refusal = ephemeral(live, DEV, "staging is on hold by <@U0DEV>")
    assert f"rollback {record.name} to {good[:7]}: v2 is broken" in refusal
    assert "then /promote unlock staging" in refusal
    assert (head(live, "staging"), records(live)) == before
    live.command(STAKEHOLDER, "/promote unlock staging")
    said_in(live, record_channel(live), "lifted the hold on staging of myapp")
    assert live.bot.store.blocks("myapp", "staging") == []

    # a freeze refuses promotions the same way, with its reason
    live.command(STAKEHOLDER, "/promote freeze staging quarter-end close")
    said_in(live, record_channel(live), "froze staging of myapp")
    live.command(DEV, "/promote staging")
    assert "quarter-end close" in ephemeral(live, DEV, "staging is frozen by <@U0STAKE>")
    assert (head(live, "staging"), records(live)) == before


def record_channel(live: Live) -> str:
    return live.bot.pipeline.app("myapp").channels.deploys


def test_prod_promotion_is_synced_down_then_rolled_back_in_an_emergency(live: Live) -> None:
    initial = head(live, "prod")
    change = live.push("staging", "apps/myapp/NOTES.md", "for prod\n", "Ready for prod")
    live.wait_deployed("staging", change)
    live.command(DEV, "/promote prod")
    promotion = through_prod_gates(live, live.live_record("prod"), "Revert the merge on prod.")
    merge = promotion.merge_sha
    assert git(live, "rev-list", "--parents", "-n", "1", merge).split()[1:] == [initial, change]

    # branch sync: nothing below holds work prod lacks, so both are fast-forwarded to the merge
    wait_for(lambda: event_kinds(live, promotion).count("synced") == 2, "both syncs")
    assert head(live, "staging") == head(live, "dev") == merge
    card = wait_for(lambda: (text := live.card_text(promotion.id)).count("fast-forwarded")
                    == 2 and text, "both syncs on the card")
    assert f"Sync: staging fast-forwarded to prod ({merge[:7]})" in card
    assert f"Sync: dev fast-forwarded to staging ({merge[:7]})" in card
    live.wait_deployed("staging", head(live, "staging"))
    live.wait_deployed("dev", head(live, "dev"))

    # refusals: outside the incident channel, and by someone not on call
    before = (head(live, "prod"), records(live))
    live.command(ONCALL, f"/rollback prod emergency to {initial}")
    ephemeral(live, ONCALL, f"an emergency rollback of prod is done in <#{INCIDENTS}>")
    live.command(DEV, f"/rollback prod emergency to {initial}", channel=INCIDENTS)
    ephemeral(live, DEV, f"an emergency rollback of prod needs the on-call role: ask <@{ONCALL}>")
    assert (head(live, "prod"), records(live)) == before
    assert live.bot.store.blocks("myapp", "prod") == []

    # omar, on call, in the incident channel: the merge reverted on prod directly
    live.command(ONCALL, "/rollback prod emergency checkout errors", channel=INCIDENTS)
    choose_in_dialog(live, ONCALL, initial, "checkout errors")
    rollback = live.wait_state(newest(live, "prod", Kind.ROLLBACK).id, State.DEPLOYED,
                               State.FAILED)
    assert rollback.state is State.DEPLOYED, rollback.failure
    assert rollback.rollback.emergency and rollback.pr_number is None
    revert = rollback.merge_sha
    assert git(live, "rev-parse", f"{revert}^") == merge  # on top of the merge commit
    assert tree(live, revert) == tree(live, f"{merge}^1")  # its mainline parent's content
    assert live.deployed("prod", revert)
    card = card_with(live, rollback, "*prod is back to")
    assert f"Rollback {rollback.name}: myapp prod → {initial[:7]}" in card
    assert "none: the emergency revert is pushed to `prod`" in card
    [hold] = live.bot.store.blocks("myapp", "prod")
    assert hold.by == ONCALL and hold.reason.endswith("checkout errors")
    # carried down: staging and dev no longer have the change either, each said on the card
    card = wait_for(lambda: (text := live.card_text(rollback.id)).count("Carried down") == 2
                    and text, "the revert carried down on the card")
    assert "Carried down: the revert is on staging as" in card
    assert "it removes “Ready for prod” there" in card
    for branch in ("staging", "dev"):
        assert tree(live, branch) == tree(live, initial), branch


def test_hotfix_through_prods_gates_despite_a_freeze_and_backported(live: Live) -> None:
    live.command(STAKEHOLDER, "/promote freeze prod launch week")
    said_in(live, record_channel(live), "froze prod of myapp")
    live.command(DEV, "/hotfix start fix-login")  # hotfixes are stakeholders' and on-call's
    ephemeral(live, DEV, "starting a hotfix of myapp needs the stakeholder or on-call role")
    assert "hotfix/fix-login" not in git(live, "branch", "--list")
    live.command(ONCALL, "/hotfix start fix-login")
    said = said_in(live, record_channel(live), "started `hotfix/fix-login`")
    assert "git push origin hotfix/fix-login" in said and "/hotfix promote fix-login" in said
    assert head(live, "hotfix/fix-login") == head(live, "prod")

    before = records(live)
    live.command(ONCALL, "/hotfix start fix-login")
    ephemeral(live, ONCALL, "hotfix/fix-login already exists: push your fix to it")
    live.command(ONCALL, "/hotfix start fix..login")
    ephemeral(live, ONCALL, "`fix..login` is not a valid branch name")
    assert records(live) == before
    assert "hotfix/fix..login" not in git(live, "branch", "--list")

    fix = live.push("hotfix/fix-login", "apps/myapp/FIX.md", "fixed\n", "Fix the login timeout")
    live.command(ONCALL, "/hotfix promote fix-login")
    ephemeral(live, ONCALL, "Hotfix H-1 of myapp (hotfix/fix-login@")
    record = through_prod_gates(live, live.live_record("prod"), "Revert the hotfix merge.")
    assert record.kind is Kind.HOTFIX and live.deployed("prod", record.merge_sha)
    wait_for(lambda: event_kinds(live, record).count("backported") == 2, "both backports")
    for branch in ("prod", "staging", "dev"):
        assert is_ancestor(live, fix, branch), branch
    card = wait_for(lambda: (text := live.card_text(record.id)).count("Backport: ") == 2
                    and text, "both backports on the card")
    assert "Hotfix H-1: hotfix/fix-login → prod" in card
    assert "Backport: staging fast-forwarded to hotfix/fix-login" in card
    assert "Backport: dev fast-forwarded to staging" in card
    assert "Hotfix deployed to prod" in card
    # The timeline tells the steps in order; Slack's pace may fold two steps into one update.
    assert 0 <= card.index("Merged `") < card.index("Deployed:")
