"""/rollback, its dialog, /promote unlock and /hotfix through the real Bolt app, with the core's
fakes behind it: every form parsed, the dialog opened before any outside call, each refusal
answered with the core's reason and nothing changed, and the rollback and hotfix cards."""

from __future__ import annotations

from typing import Any

import pytest

from handlers import blocks, ids
from handlers.commands import Help, Invalid
from handlers.incident_commands import (
    HotfixPromote,
    HotfixStart,
    Rollback,
    parse_hotfix,
    parse_rollback,
)
from handlers.messages import views
from handlers.payloads import RollbackMeta
from slackbot.engine.incidents import Revision
from slackbot.models import Kind
from tests.handlers.conftest import DEPLOYS, DEV, INCIDENTS, STAKE, Edge, wait_for
from tests.handlers.test_promotion_card import _action_ids, _text_of

APPS = ("myapp", "shop")


# -- parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Help()),
        ("help", Help()),
        ("prod", Rollback("prod")),
        ("prod myapp", Rollback("prod", "myapp")),
        ("dev to 1a2b3c4", Rollback("dev", None, "1a2b3c4")),
        ("prod myapp to 1a2b3c4 emergency checkout down",
         Rollback("prod", "myapp", "1a2b3c4", True, "checkout down")),
        ("prod emergency to 1a2b3c4", Rollback("prod", None, "1a2b3c4", True)),
        ("prod EMERGENCY", Rollback("prod", None, None, True)),
        ("staging bad config, an emergency", Rollback("staging", None, None, False,
                                                     "bad config, an emergency")),
    ],
)
def test_parse_rollback_reads_each_form(text: str, expected: object) -> None:
    assert parse_rollback(text, APPS) == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [("prod to", "`to` needs a revision"), ("prod myap", "did you mean `myapp`?")],
)
def test_parse_rollback_mistakes_say_what_was_meant(text: str, needle: str) -> None:
    parsed = parse_rollback(text, APPS)
    assert isinstance(parsed, Invalid) and needle in parsed.answer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Help()),
        ("help", Help()),
        ("start login-timeout", HotfixStart("login-timeout")),
        ("start login shop", HotfixStart("login", "shop")),
        ("promote login", HotfixPromote("login")),
        ("promote login myapp", HotfixPromote("login", "myapp")),
        ("start fix login now", HotfixStart("fix login now")),  # the core refuses the name
    ],
)
def test_parse_hotfix_reads_each_form(text: str, expected: object) -> None:
    assert parse_hotfix(text, APPS) == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("strat login", "did you mean `/hotfix start`?"),
        ("promte login", "did you mean `/hotfix promote`?"),
        ("login", "use `/hotfix start &lt;name&gt;`"),
        ("start", "`start` needs a hotfix name"),
        ("promote login myap", "did you mean `myapp`?"),
    ],
)
def test_parse_hotfix_mistakes_say_what_was_meant(text: str, needle: str) -> None:
    parsed = parse_hotfix(text, APPS)
    assert isinstance(parsed, Invalid) and needle in parsed.answer


# -- helpers -----------------------------------------------------------------------------------


def with_history(edge: Edge, env: str, count: int = 3) -> list[str]:
    """The env's branch had `count` heads, Flux runs the newest; newest first."""
    shas = [edge.forge.push(env) for _ in range(count)][::-1]
    edge.workspace.history[env] = shas
    edge.cluster.deploy(f"myapp-{env}", env, shas[0])
    return shas


def unchanged(edge: Edge) -> dict[str, object]:
    """Redis without the delivery keys (every command claims one), the forge and git."""
    state = {k: v for k, v in edge.snapshot().items() if ":once:" not in k}
    return {"redis": state, "heads": dict(edge.forge.heads),
            "reverts": list(edge.workspace.reverts), "pulls": dict(edge.forge.pulls)}


def dialog(edge: Edge, user: str, needle: str) -> dict[str, Any]:
    return wait_for(
        lambda: next((v for v in edge.emulator.open_views(user)
                      if needle in _text_of({"blocks": v.get("blocks", [])})), None),
        what=f"a dialog with {needle!r}",
    )


def options(view: dict[str, Any]) -> list[dict[str, Any]]:
    block = next(b for b in view["blocks"] if b.get("block_id") == ids.ROLLBACK_CHOICE_BLOCK)
    return list(block["element"]["options"])


def choose(edge: Edge, user: str, view: dict[str, Any], sha: str, reason: str = "") -> dict:
    result = edge.emulator.submit(user, view["id"], {
        ids.ROLLBACK_CHOICE_BLOCK: {ids.ROLLBACK_CHOICE_INPUT: sha},
        ids.ROLLBACK_REASON_BLOCK: {ids.ROLLBACK_REASON_INPUT: reason},
    })
    assert result["ok"] and result["status"] == 200, result
    return result


# -- /rollback and its dialog ----------------------------------------------------------------


def test_rollback_dialog_opens_before_any_outside_call_then_lists_revisions(edge: Edge) -> None:
    _, previous, older = with_history(edge, "staging")
    edge.order.hold()
    result = edge.command("/rollback staging bad config")
    loading = wait_for(lambda: edge.emulator.open_views(DEV), what="the loading dialog")[-1]
    edge.order.note("dialog open")
    edge.order.release()
    assert result["status"] == 200 and result["error"] is None
    assert "Reading the revisions staging of myapp ran" in _text_of(loading)
    assert "submit" not in loading or not loading["submit"]
    view = dialog(edge, DEV, "Choose the revision")
    assert edge.order.log[0] == "dialog open"
    assert edge.order.outside_calls()[0] == "workspace first_parent_history"
    listed = options(view)
    assert [o["value"] for o in listed] == [previous, older]
    assert all(len(o["text"]["text"]) <= 75 for o in listed)
    assert listed[0]["text"]["text"] == f"{previous[:7]} commit {previous[:7]} (branch history)"
    assert "The revert lands on the lowest env that has the change" in _text_of(view)
    reason = next(b for b in view["blocks"] if b.get("block_id") == ids.ROLLBACK_REASON_BLOCK)
    assert reason["element"]["initial_value"] == "bad config"
    assert edge.cards() == []  # nothing recorded until a revision is chosen


def test_choosing_a_revision_starts_the_rollback_with_its_card_and_hold(edge: Edge) -> None:
    older = with_history(edge, "staging")[2]
    edge.command("/rollback staging")
    choose(edge, DEV, dialog(edge, DEV, "Choose the revision"), older, "bad config")
    edge.wait_ephemeral(DEV, f"Rollback R-1 of myapp staging to `{older[:7]}` has started")
    record = edge.wait_state(1, "awaiting_gates")
    assert (record.rollback.target, record.rollback.reason) == (older, "bad config")
    card = edge.card_of(1)
    text = _text_of(card)
    assert card["blocks"][0]["text"]["text"] == f"Rollback R-1: myapp staging → {older[:7]}"
    assert f"*Back to*\n`{older[:7]}`" in text and "*Reason*\nbad config" in text
    assert f":lock: Hold placed by <@{DEV}>: promotions into staging are on hold" in text
    assert ids.ADD_PLAN not in _action_ids(card)
    assert edge.forge.pulls[record.pr_number or 0].head == "rollback/staging-1"
    [hold] = edge.store.blocks("myapp", "staging")
    assert (hold.by, hold.record, hold.target, hold.reason) == (DEV, 1, older, "bad config")


def test_dev_rollback_to_a_revision_reverts_in_place_and_the_card_shows_each_step(
    edge: Edge,
) -> None:
    _, previous, _ = with_history(edge, "dev")
    reply = edge.command(f"/rollback dev to {previous[:9]}")
    assert reply["ack"] is None  # no note in the ack: it could show after the answer
    record = edge.wait_state(1, "reconciling")
    assert record.direct and edge.forge.heads["dev"] == record.merge_sha
    edge.cluster.deploy("myapp-dev", "dev", record.merge_sha or "")
    edge.core.steps.advance(1)
    card = edge.wait_state(1, "deployed") and edge.card_of(1)
    text = _text_of(card)
    assert card["blocks"][0]["text"]["text"] == f"Rollback R-1: myapp dev → {previous[:7]}"
    assert "*Branch*\n`dev` (reverted in place)" in text
    assert "none: the revert is pushed to `dev`" in text
    steps = ["Requested by", "Hold placed by", "Reverting: reverting dev to",
             f"Revert pushed as `{record.merge_sha[:7]}`", "Deployed:"]
    at = [text.index(step) for step in steps]
    assert at == sorted(at), text
    assert f"*dev is back to `{previous[:7]}`.*" in text
    assert _action_ids(card) == []


def test_the_dialog_names_the_rollback_that_deployed_a_revision_once(edge: Edge) -> None:
    shas = with_history(edge, "dev")
    previous = shas[1]
    edge.command(f"/rollback dev to {previous[:9]}")
    record = edge.wait_state(1, "reconciling")
    edge.cluster.deploy("myapp-dev", "dev", record.merge_sha or "")
    edge.core.steps.advance(1)
    edge.wait_state(1, "deployed")
    edge.core.holds.unlock("myapp", "dev", DEV)
    newer = edge.forge.push("dev")  # the revert is now an earlier revision of dev
    edge.workspace.history["dev"] = [newer, record.merge_sha or "", *shas]
    edge.cluster.deploy("myapp-dev", "dev", newer)
    edge.command("/rollback dev")
    listed = options(dialog(edge, DEV, "Choose the revision"))
    revert = next(o["text"]["text"] for o in listed if o["value"] == record.merge_sha)
    assert revert == (f"{(record.merge_sha or '')[:7]} Roll back dev to {previous[:7]} "
                      f"(rollback R-1)")
    assert revert.count("R-1") == 1


def test_emergency_outside_the_incident_channel_is_refused_and_nothing_changes(
    edge: Edge,
) -> None:
    _, previous, _ = with_history(edge, "prod")
    before = unchanged(edge)
    edge.command(f"/rollback prod to {previous} emergency", user=STAKE, channel=DEPLOYS)
    text = edge.wait_ephemeral(STAKE, f"an emergency rollback of prod is done in <#{INCIDENTS}>")
    assert "drop `emergency` for a planned revert pull request" in text
    edge.settle()
    assert unchanged(edge) == before and edge.cards() == []


def test_emergency_by_someone_not_on_call_is_refused_and_nothing_changes(edge: Edge) -> None:
    _, previous, _ = with_history(edge, "prod")
    before = unchanged(edge)
    edge.command(f"/rollback prod emergency to {previous}", user=DEV, channel=INCIDENTS)
    edge.wait_ephemeral(DEV, f"an emergency rollback of prod needs the on-call role: ask "
                             f"<@{STAKE}>")
    edge.settle()
    assert unchanged(edge) == before and edge.cards() == []


def test_emergency_dialog_refuses_up_front_whoever_may_not(edge: Edge) -> None:
    with_history(edge, "prod")
    before = unchanged(edge)
    edge.command("/rollback prod emergency checkout is down", user=DEV, channel=INCIDENTS)
    view = dialog(edge, DEV, "an emergency rollback of prod needs the on-call role")
    assert not view.get("submit")  # nothing to choose: the dialog only says why
    edge.settle()
    assert unchanged(edge) == before and edge.cards() == []
    assert edge.order.outside_calls() == []  # refused before any revision was read


def test_emergency_through_the_dialog_by_on_call_reverts_prod(edge: Edge) -> None:
    _, previous, _ = with_history(edge, "prod")
    edge.command("/rollback prod emergency checkout is down", user=STAKE, channel=INCIDENTS)
    view = dialog(edge, STAKE, "Choose the revision")
    assert "*Emergency*" in _text_of(view)
    choose(edge, STAKE, view, previous, "checkout is down")
    record = edge.wait_state(1, "reconciling")
    assert record.direct and record.rollback.emergency
    assert edge.workspace.reverts[0][:3] == ("prod", previous, None)
    assert "none: the emergency revert is pushed to `prod`" in _text_of(edge.card_of(1))
    edge.wait_ephemeral(STAKE, "emergency: the revert is pushed to prod directly")


def test_rollback_to_a_revision_the_env_never_ran_is_refused(edge: Edge) -> None:
    with_history(edge, "staging")
    stranger = edge.forge.heads["dev"]
    before = unchanged(edge)
    edge.command(f"/rollback staging to {stranger[:10]}")
    text = edge.wait_ephemeral(DEV, f"staging never ran {stranger[:10]}")
    assert "/rollback staging without a revision lists the ones it ran" in text
    edge.settle()
    assert unchanged(edge) == before


def test_rollback_while_a_rollback_is_live_is_refused(edge: Edge) -> None:
    _, previous, older = with_history(edge, "staging")
    edge.command(f"/rollback staging to {previous}")
    edge.wait_state(1, "awaiting_gates")
    edge.settle()
    before = unchanged(edge)
    edge.command(f"/rollback staging to {older}", user=STAKE)
    text = edge.wait_ephemeral(STAKE, "staging already has a live rollback")
    assert f"R-1 by <@{DEV}>" in text and "wait for it, or cancel it first" in text
    edge.settle()
    assert unchanged(edge) == before


def test_rollback_of_an_unknown_env_names_the_closest_and_opens_nothing(edge: Edge) -> None:
    edge.command("/rollback stagin")
    edge.wait_ephemeral(DEV, "did you mean `staging`?")
    assert edge.emulator.open_views(DEV) == [] and edge.order.outside_calls() == []


def test_rollback_dialog_of_an_env_without_history_says_so(edge: Edge) -> None:
    edge.command("/rollback prod")
    view = dialog(edge, DEV, "has no earlier revision")
    assert not view.get("submit")


def test_rollback_and_hotfix_help_are_answered_in_the_ack(edge: Edge) -> None:
    rollback_help = _text_of(edge.command("/rollback help")["ack"])
    assert ("/rollback prod emergency" in rollback_help
            and "/promote unlock &lt;env&gt;" in rollback_help)
    hotfix_help = _text_of(edge.command("/hotfix")["ack"])
    assert "/hotfix start &lt;name&gt; [app]" in hotfix_help and "/hotfix promote" in hotfix_help
    promote_help = _text_of(edge.command("/promote help")["ack"])
    assert ("/promote unlock &lt;env&gt; [app]" in promote_help
            and "/rollback &lt;env&gt;" in promote_help)
    assert edge.order.outside_calls() == []


# -- holds, unlock and status -------------------------------------------------------------------


def test_unlock_lifts_the_hold_announced_in_the_channel(edge: Edge) -> None:
    _, previous, _ = with_history(edge, "staging")
    edge.command(f"/rollback staging to {previous}")
    edge.wait_state(1, "awaiting_gates")
    edge.settle()
    edge.command("/promote staging")  # the hold is said before the live rollback
    edge.wait_ephemeral(DEV, "staging is on hold by <@U0DEV>")
    edge.command("/promote status")
    status = wait_for(lambda: next((m for m in edge.emulator.ephemerals(DEV)
                                    if m.get("text") == "Status of myapp per environment"), None),
                      what="the status")
    assert f":lock: hold by <@{DEV}> since" in _text_of(status)
    edge.command("/promote unlock staging myapp", user=STAKE)
    wait_for(lambda: [m for m in edge.emulator.history(DEPLOYS)
                      if f"<@{STAKE}> lifted the hold on staging of myapp" in m["text"]],
             what="the unlock announced")
    assert edge.store.blocks("myapp", "staging") == []
    edge.command("/promote cancel 1")
    edge.wait_state(1, "cancelled")
    edge.command("/promote unlock staging", user=STAKE)
    edge.wait_ephemeral(STAKE, "staging of myapp was not on hold")


# -- hotfixes -------------------------------------------------------------------------------------


def test_hotfix_start_answers_in_the_channel_with_the_next_steps(edge: Edge) -> None:
    prod = edge.forge.heads["prod"]
    edge.command("/hotfix start login-timeout")
    said = wait_for(lambda: [m for m in edge.emulator.history(DEPLOYS)
                             if "started `hotfix/login-timeout`" in m["text"]],
                    what="the hotfix answer")[0]["text"]
    assert f"`prod@{prod[:7]}`" in said and "git push origin hotfix/login-timeout" in said
    assert "`/hotfix promote login-timeout`" in said
    assert edge.forge.heads["hotfix/login-timeout"] == prod


@pytest.mark.parametrize("name", ["fix..login", "-x", "x.lock", "fix~1", "fix login"])
def test_hotfix_with_an_invalid_name_is_refused_and_nothing_changes(edge: Edge, name: str) -> None:
    before = unchanged(edge)
    edge.command(f"/hotfix start {name}")
    text = edge.wait_ephemeral(DEV, "is not a valid branch name")
    assert f"`{name}`" in text and "for example /hotfix start fix-login-timeout" in text
    edge.settle()
    assert unchanged(edge) == before


def test_hotfix_that_exists_is_refused_and_nothing_changes(edge: Edge) -> None:
    edge.command("/hotfix start login")
    wait_for(lambda: "hotfix/login" in edge.forge.heads, what="the branch")
    edge.settle()
    before = unchanged(edge)
    edge.command("/hotfix start login")
    text = edge.wait_ephemeral(DEV, "hotfix/login already exists")
    assert "push your fix to it and /hotfix promote login, or pick another name" in text
    edge.settle()
    assert unchanged(edge) == before


def test_hotfix_promote_posts_its_card_and_goes_through_prods_gates(edge: Edge) -> None:
    edge.command("/hotfix promote login")
    edge.wait_ephemeral(DEV, "there is no hotfix/login: start it with /hotfix start login")
    edge.command("/hotfix start login")
    wait_for(lambda: "hotfix/login" in edge.forge.heads, what="the branch")
    fix = edge.forge.push("hotfix/login")
    edge.command("/hotfix promote login")
    edge.wait_ephemeral(DEV, f"Hotfix H-1 of myapp (hotfix/login@{fix[:7]} -> prod) has started")
    record = edge.wait_state(1, "awaiting_gates")
    card = edge.card_of(1)
    assert card["blocks"][0]["text"]["text"] == "Hotfix H-1: hotfix/login → prod"
    assert {ids.APPROVE, ids.REJECT, ids.ADD_PLAN, ids.CANCEL} <= set(_action_ids(card))
    assert edge.forge.pulls[record.pr_number or 0].head == "hotfix/login"


# -- pure builders ---------------------------------------------------------------------------------


def test_rollback_dialog_stays_within_slacks_limits() -> None:
    meta = RollbackMeta("myapp", "prod", "C0INCIDENT", True)
    many = [Revision(f"{n:040x}", "a very long subject " * 20, n, Kind.PROMOTION)
            for n in range(150)]
    view = blocks.rollback_modal(meta, many, views.rollback_how("prod", False, True), "x" * 5000)
    listed = options(view)
    assert len(listed) == 100 and all(len(o["text"]["text"]) <= 75 for o in listed)
    assert RollbackMeta.decode(view["private_metadata"]) == meta
    assert blocks.rollback_loading_modal(meta)["callback_id"] == ids.ROLLBACK_VIEW
    assert RollbackMeta.decode('{"app":"myapp"}') is None and RollbackMeta.decode("[") is None


def test_card_timeline_names_every_incident_event_and_links_conflict_pulls() -> None:
    from datetime import UTC, datetime

    from slackbot.config import load_pipeline
    from slackbot.events import Deployed, Event, SyncConflict, Synced, Unlocked
    from slackbot.models import HotfixSpec, Promotion, State
    from slackbot.progress import Pods

    at = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    record = Promotion(7, Kind.HOTFIX, "myapp", "prod", "hotfix/login", "prod", DEV, at,
                       state=State.DEPLOYED, head_sha="f" * 40, merge_sha="e" * 40,
                       hotfix=HotfixSpec("login"))
    events = [
        Event(7, "myapp", "prod", "bot", at, Deployed("prod@sha1:eeee", (Pods("myapp", 3, 3),))),
        Event(7, "myapp", "prod", "bot", at,
              Synced("staging", "hotfix/login", "1a2b3c4" + "0" * 33, backport=True)),
        Event(7, "myapp", "prod", "bot", at,
              SyncConflict("dev", "hotfix/login", 12, "https://github.test/acme/myapp/pull/12",
                           backport=True)),
        Event(7, "myapp", "prod", "bot", at, SyncConflict("dev", "<prod>", None, None)),
        Event(None, "myapp", "prod", DEV, at, Unlocked()),
    ]
    gates = load_pipeline(None).app("myapp").env("prod").gates
    card = blocks.card(record, events, gates)
    text = _text_of(card)
    assert card["blocks"][0]["text"]["text"] == "Hotfix H-7: hotfix/login → prod"
    assert "Backport: hotfix/login merged into staging as 1a2b3c4" in text
    assert ("Backport conflict: hotfix/login conflicts with dev: resolve it in pull request "
            "<https://github.test/acme/myapp/pull/12|#12>") in text
    assert "Sync conflict: &lt;prod&gt; conflicts with dev, and the pull request could not" in text
    assert "lifted" not in text
    assert "*Hotfix deployed to prod*" in text
    assert _action_ids(card) == []
