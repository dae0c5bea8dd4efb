"""Incidents where the incident is (issue 15, point 5), through the real bot on the emulated
world: a hotfix asked for in the incident channel has its card there, mirrored by one line
with a link in the deploys channel, and goes through prod's gates on a Saturday without
waiting for Monday's change window; an emergency rollback on a Saturday reverts prod at once,
its card in the incident channel and one line in the deploys channel; every command gets one
answer, never an "On it…" after it."""

from __future__ import annotations

from sandbox.world import DEPLOYS, INCIDENTS
from slackbot.models import Kind, State
from tests.e2e.conftest import DEV, ONCALL, Live, wait_for
from tests.e2e.story import push_files, synced, working_notes
from tests.e2e.test_incidents import (
    DEPLOY,
    card_with,
    ephemeral,
    is_ancestor,
    through_prod_gates,
    tree,
)


def test_a_saturday_hotfix_runs_in_the_incident_channel_without_waiting_for_a_window(
        live: Live) -> None:
    live.clock.jump(days=3)  # Saturday noon: prod's change window opens on Monday 09:00
    live.command(ONCALL, "/hotfix start checkout", channel=INCIDENTS)
    wait_for(lambda: live.bot.forge.branch_exists("acme/myapp", "hotfix/checkout"), "the branch")
    fix = push_files(live, "hotfix/checkout", {"apps/myapp/FIX.md": "fixed\n"},
                     "Fix the checkout timeout (OPS-7)")
    live.command(ONCALL, "/hotfix promote checkout", channel=INCIDENTS)
    record = live.wait_state(live.live_record("prod").id, State.AWAITING_GATES)
    ephemeral(live, ONCALL, f"Hotfix {record.name} of myapp (hotfix/checkout@")
    assert "window" not in {g.name for g in record.gates}  # the incident is now

    channel, ts = live.card_ref(record.id)
    assert channel == INCIDENTS  # the card is where the incident is
    mirror = wait_for(lambda: next((m for m in live.world.slack.history(DEPLOYS)
                                    if record.name in m.get("text", "")), None),
                      "the line in the deploys channel")
    assert mirror["text"].startswith(f":rotating_light: Hotfix {record.name} of myapp prod is "
                                     f"handled in <#{INCIDENTS}>: follow <https://")
    assert f"/archives/{INCIDENTS}/p{ts.replace('.', '')}|its card>" in mirror["text"]
    assert not mirror.get("blocks")  # one line, not a second card

    done = through_prod_gates(live, record, "revert the hotfix merge")
    assert done.merge_not_before is None and live.deployed("prod", done.merge_sha)
    synced(live, done)
    assert all(is_ancestor(live, fix, env) for env in ("dev", "staging", "prod"))
    assert [m for m in live.world.slack.history(DEPLOYS) if record.name in m.get("text", "")] == [
        mirror]  # mirrored once, however often the card changed
    assert working_notes(live, ONCALL) == [] and working_notes(live, DEV) == []


def test_a_saturday_emergency_rollback_reverts_prod_at_once_where_the_incident_is(
        live: Live) -> None:
    good = push_files(live, "prod", {"apps/myapp/NOTES.md": "good\n"}, "prod: good notes")
    bad = push_files(live, "prod", {"apps/myapp/NOTES.md": "bad\n"}, "prod: bad notes")
    live.wait_deployed("prod", bad)
    live.clock.jump(days=3)  # Saturday noon: prod's change window opens on Monday 09:00

    live.command(ONCALL, f"/rollback prod emergency to {good[:7]}")  # not the incident channel
    refusal = f"an emergency rollback of prod is done in <#{INCIDENTS}>: run it there"
    ephemeral(live, ONCALL, refusal)
    assert sum(refusal in t for t in live.ephemerals(ONCALL)) == 1  # one answer, once
    assert working_notes(live, ONCALL) == []

    live.command(ONCALL, f"/rollback prod emergency to {good[:7]} bad notes", channel=INCIDENTS)
    rollback = wait_for(lambda: next((p for p in live.bot.store.history("myapp", "prod", 5)
                                      if p.kind is Kind.ROLLBACK), None), "the rollback")
    done = live.wait_state(rollback.id, State.DEPLOYED, State.FAILED, timeout=DEPLOY)
    assert done.state is State.DEPLOYED, done.failure
    assert done.merge_not_before is None and live.deployed("prod", done.merge_sha)
    assert tree(live, "prod") == tree(live, good)  # reverted at once, on a Saturday

    channel, ts = live.card_ref(done.id)
    assert channel == INCIDENTS
    mirror = wait_for(lambda: next((m for m in live.world.slack.history(DEPLOYS)
                                    if done.name in m.get("text", "")), None),
                      "the line in the deploys channel")
    assert mirror["text"].startswith(f":rotating_light: Rollback {done.name} of myapp prod is "
                                     f"handled in <#{INCIDENTS}>: follow <https://")
    assert f"/archives/{INCIDENTS}/p{ts.replace('.', '')}|its card>" in mirror["text"]
    assert not mirror.get("blocks")
    card_with(live, done, "*prod is back to")
    assert [m for m in live.world.slack.history(DEPLOYS) if done.name in m.get("text", "")] == [
        mirror]
    assert working_notes(live, ONCALL) == []
