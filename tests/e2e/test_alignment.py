"""Branches really aligned (issue 15, point 2), through the real bot on the emulated world:
after prod, a branch below that holds nothing prod lacks is fast-forwarded (no empty sync
merge, so nothing shows as waiting and `/promote` has nothing to offer); one that holds more
gets a merge, and dev is never left behind staging; a conflict becomes a pull request and a
line on the card. Every result is read from git."""

from __future__ import annotations

from sandbox.world import INCIDENTS
from slackbot.events import SyncConflict
from slackbot.models import State
from tests.e2e.conftest import DEV, ONCALL, Live, blocks_text, wait_for
from tests.e2e.story import files, promote_prod, promote_staging, push_files, synced
from tests.e2e.test_incidents import (
    card_with,
    ephemeral,
    git,
    head,
    is_ancestor,
    through_prod_gates,
    tree,
)

NOTES = "apps/myapp/NOTES.md"


def status_text(live: Live, user: str) -> str:
    """`/promote status` as the user sees it."""
    before = len(live.world.slack.ephemerals(user))
    live.command(user, "/promote status")
    message = wait_for(lambda: next((m for m in live.world.slack.ephemerals(user)[before:]
                                     if m.get("blocks")), None), "the status answer")
    return blocks_text(message["blocks"])


def test_after_prod_branches_are_fast_forwarded_or_merged_never_left_behind(live: Live) -> None:
    change = push_files(live, "dev", {NOTES: "faster checkout\n"}, "Faster checkout")
    live.wait_deployed("dev", change)
    promote_staging(live)
    shipped = promote_prod(live)
    synced(live, shipped)
    # nothing below held work prod lacked: moved to the merge, no "Sync prod into dev" commit
    assert head(live, "staging") == head(live, "dev") == shipped.merge_sha
    card = card_with(live, shipped, "Sync: dev fast-forwarded to staging")
    assert f"Sync: staging fast-forwarded to prod ({shipped.merge_sha[:7]})" in card
    live.wait_deployed("dev", shipped.merge_sha)
    live.wait_deployed("staging", shipped.merge_sha)
    status = status_text(live, DEV)  # dev (the first env), staging and prod
    assert status.count("*Waiting to be promoted here*\nnothing to promote") == 3
    live.command(DEV, "/promote staging")
    ephemeral(live, DEV, "staging already has everything in dev: nothing to promote")
    assert live.bot.store.live("myapp", "staging") is None

    # dev gets new work while the next release goes to prod: dev is merged, staging moved
    second = push_files(live, "dev", {NOTES: "faster checkout\nand search\n"}, "Faster search")
    live.wait_deployed("dev", second)
    promote_staging(live)
    later = push_files(live, "dev", {"apps/myapp/LATER.md": "next\n"}, "Work for next week")
    released = promote_prod(live)
    synced(live, released)
    assert head(live, "staging") == released.merge_sha
    dev = head(live, "dev")
    assert git(live, "rev-list", "--parents", "-n", "1", dev).split()[1:] == [later,
                                                                             released.merge_sha]
    assert is_ancestor(live, released.merge_sha, "dev")  # dev holds staging: never behind it
    assert files(live, "dev")["apps/myapp/LATER.md"] == "next"
    assert tree(live, "staging") == tree(live, "prod")
    card_with(live, released, f"Sync: staging merged into dev as {dev[:7]}")
    status = status_text(live, DEV)  # prod has everything in staging; staging lacks dev's work
    assert status.count("*Waiting to be promoted here*\nnothing to promote") == 2
    assert "Work for next week" in status


def test_a_backport_that_conflicts_becomes_a_pull_request_and_a_card_line(live: Live) -> None:
    live.command(ONCALL, "/hotfix start notes", channel=INCIDENTS)
    wait_for(lambda: live.bot.forge.branch_exists("acme/myapp", "hotfix/notes"), "the branch")
    fix = push_files(live, "hotfix/notes", {NOTES: "hotfix side\n"}, "Fix the notes")
    mine = push_files(live, "dev", {NOTES: "dev side\n"}, "dev edits the same line")
    live.command(ONCALL, "/hotfix promote notes", channel=INCIDENTS)
    record = live.wait_state(live.live_record("prod").id, State.AWAITING_GATES)
    record = through_prod_gates(live, record, "revert the hotfix")
    conflict = wait_for(lambda: next((e.facts for e in live.bot.store.events(record.id)
                                      if isinstance(e.facts, SyncConflict)), None),
                        "the backport conflict")
    assert (conflict.base, conflict.head) == ("dev", "staging") and conflict.pull is not None
    pull = live.world.github.pull_request(conflict.pull)
    assert (pull["base"]["ref"], pull["head"]["ref"], pull["state"]) == ("dev", "staging", "open")
    card = card_with(live, record, "Backport conflict: staging conflicts with dev")
    assert f"resolve it in pull request <{pull['html_url']}|#{conflict.pull}>" in card
    assert head(live, "dev") == mine  # nothing was forced onto dev
    assert is_ancestor(live, fix, "staging") and is_ancestor(live, fix, "prod")
