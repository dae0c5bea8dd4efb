"""Buttons and modals act on the record of their message; who may do what is said per person;
what people and git wrote comes back inert. Through the real Bolt app, with signed requests.

A forged click is a real click's payload with one thing changed (the value, the channel, the
message), signed as Slack signs: the bot must refuse it, say why, and change nothing.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from handlers import ids
from handlers.payloads import ButtonValue, ModalMeta
from tests.handlers.conftest import (
    DEPLOYS,
    DEV,
    INCIDENTS,
    OUTSIDER,
    REVIEWER,
    STAKE,
    Edge,
    wait_for,
)
from tests.handlers.observing import texts_of, world_state
from tests.handlers.test_incidents import choose, dialog, options, with_history
from tests.handlers.test_promotion_card import _text_of

CHANNELS = (DEPLOYS, INCIDENTS)


def _two_live(edge: Edge) -> tuple[dict[str, Any], dict[str, Any]]:
    """#1 into prod and #2 into staging, both waiting for their gates, with their cards."""
    edge.command("/promote prod")
    edge.wait_state(1, "awaiting_gates")
    edge.command("/promote staging")
    edge.wait_state(2, "awaiting_gates")
    edge.settle()
    return edge.card_of(1), edge.card_of(2)


def _template(edge: Edge, user: str, card: dict[str, Any]) -> dict[str, Any]:
    """A real click's payload (Reject opens a modal: nothing changes)."""
    click = edge.click(user, ids.REJECT, card["ts"])
    edge.settle()
    payload: dict[str, Any] = json.loads(json.dumps(click["payload"]))
    return payload


def _forge_click(edge: Edge, payload: dict[str, Any], user: str, action_id: str,
                 value: ButtonValue, channel: str | None = None, ts: str | None = None) -> None:
    payload = json.loads(json.dumps(payload))
    payload["actions"] = [dict(payload["actions"][0], action_id=action_id,
                               value=value.encode(), action_ts=f"{time.time():.6f}")]
    payload["trigger_id"] = edge.emulator.workspace.issue_trigger(user)
    if channel is not None:
        payload["container"]["channel_id"] = channel
        payload["channel"]["id"] = channel
    if ts is not None:
        payload["container"]["message_ts"] = ts
        payload["message"]["ts"] = ts
    status, _ = edge.signed_post(urlencode({"payload": json.dumps(payload)}))
    assert status == 200


def test_a_button_whose_value_names_another_record_is_refused(edge: Edge) -> None:
    first, _second = _two_live(edge)
    template = _template(edge, STAKE, first)
    before = world_state(edge, CHANNELS)
    _forge_click(edge, template, STAKE, ids.CANCEL, ButtonValue(2))  # Cancel on #1's card
    edge.wait_ephemeral(STAKE, "This button is not on the card of #2, so it does nothing")
    edge.settle()
    assert world_state(edge, CHANNELS) == before
    assert [r.state.value for r in (edge.store.get(1), edge.store.get(2)) if r] == [
        "awaiting_gates", "awaiting_gates"]


def test_a_click_on_a_message_the_bot_did_not_post_is_refused(edge: Edge) -> None:
    first, _ = _two_live(edge)
    template = _template(edge, STAKE, first)
    mine = edge.emulator.post_as_user(DEV, DEPLOYS, "approve me please")
    record = edge.store.get(1)
    assert record is not None
    before = world_state(edge, CHANNELS)
    _forge_click(edge, template, STAKE, ids.APPROVE, ButtonValue(1, sha=record.head_sha),
                 ts=str(mine["ts"]))
    edge.wait_ephemeral(STAKE, "This button is not on the card of #1")
    edge.settle()
    assert world_state(edge, CHANNELS) == before
    assert (edge.store.get(1) or record).approvals == ()


def test_an_approve_whose_message_is_in_another_channel_is_refused(edge: Edge) -> None:
    first, _ = _two_live(edge)
    template = _template(edge, STAKE, first)
    record = edge.store.get(1)
    assert record is not None
    before = world_state(edge, CHANNELS)
    _forge_click(edge, template, STAKE, ids.APPROVE, ButtonValue(1), channel=INCIDENTS)
    edge.wait_ephemeral(STAKE, "This button is not on the card of #1")
    edge.settle()
    assert world_state(edge, CHANNELS) == before
    # a click on the card itself is recorded
    edge.click(STAKE, ids.APPROVE, first["ts"])
    edge.wait_ephemeral(STAKE, "You approved #1")
    assert (edge.store.get(1) or record).approvers() == (STAKE,)


def test_a_modal_whose_metadata_names_another_cards_record_is_refused(edge: Edge) -> None:
    first, _ = _two_live(edge)
    before = world_state(edge, CHANNELS)
    payload = {
        "type": "view_submission", "team": {"id": "T0SANDBOX"}, "api_app_id": "A0SANDBOX",
        "token": "x", "user": {"id": STAKE}, "trigger_id": edge.emulator.workspace.issue_trigger(
            STAKE),
        "view": {"id": "V0FORGED", "type": "modal", "callback_id": ids.REJECT_VIEW,
                 "private_metadata": ModalMeta(2, DEPLOYS, str(first["ts"])).encode(),
                 "state": {"values": {ids.REASON_BLOCK: {ids.REASON_INPUT: {
                     "type": "plain_text_input", "value": "not this one"}}}}},
    }
    status, _ = edge.signed_post(urlencode({"payload": json.dumps(payload)}))
    assert status == 200
    edge.wait_ephemeral(STAKE, "This button is not on the card of #2")
    edge.settle()
    assert world_state(edge, CHANNELS) == before
    assert (edge.store.get(2) or edge.store.get(1)).state.value == "awaiting_gates"  # type: ignore[union-attr]


def test_help_is_followed_by_what_each_person_may_do_per_env(edge: Edge) -> None:
    edge.command("/promote help", user=REVIEWER)  # rui: on the reviewer list only
    text = edge.wait_ephemeral(REVIEWER, f"What <@{REVIEWER}> may do in myapp")
    assert "*dev*: cancel your own, roll back, lift your own holds\n" in text
    assert ("*prod*: promote, cancel your own, write the rollback plan of your own, roll back, "
            "lift your own holds") in text
    edge.command("/promote help")  # dana: the developer list, and the stakeholder group
    text = edge.wait_ephemeral(DEV, f"What <@{DEV}> may do in myapp")
    assert ("*prod*: promote, approve (never your own), reject, cancel, write rollback plans, "
            "freeze, unfreeze, roll back, start hotfixes, promote hotfixes, lift holds") in text
    edge.command("/promote help", user=STAKE)  # sam: stakeholder and on-call
    said = edge.wait_ephemeral(STAKE, f"What <@{STAKE}> may do in myapp")
    assert f"roll back in an emergency (in <#{INCIDENTS}>)" in said
    edge.command("/promote help", user=OUTSIDER)
    edge.wait_ephemeral(OUTSIDER, "You have no role in myapp's access policy: you may use `help`")


def test_a_commit_message_on_the_rollback_dialog_and_card_pings_nobody(edge: Edge) -> None:
    _, previous, _ = with_history(edge, "staging")
    evil = "fix <!channel> <@U0STAKE> <!here> <#C0DEPLOYS|x> <!subteam^S1> &lt;b&gt;"
    edge.workspace.subjects[previous] = evil
    edge.command("/rollback staging")
    view = dialog(edge, DEV, "Choose the revision")
    [option] = [o for o in options(view) if o["value"] == previous]
    assert option["text"]["text"].startswith(
        f"{previous[:7]} fix &lt;!channel&gt; &lt;@U0STAKE&gt;")
    assert "<" not in option["text"]["text"]
    choose(edge, DEV, view, previous, "it <!here> broke")
    card = edge.wait_state(1, "awaiting_gates") and edge.card_of(1)
    edge.settle()
    said = texts_of(card) + [t for m in edge.emulator.replies(DEPLOYS, str(card["ts"]))
                             for t in texts_of(m)]
    said += [t for m in edge.emulator.ephemerals(DEV) for t in texts_of(m)]
    assert "fix &lt;!channel&gt; &lt;@U0STAKE&gt; &lt;!here&gt; &lt;#C0DEPLOYS|x&gt;" in (
        _text_of(card))
    assert "&amp;lt;b&amp;gt;" in _text_of(card)  # shown as written, not decoded
    assert "it &lt;!here&gt; broke" in _text_of(card)  # the reason, too
    for sequence in ("<!channel>", "<@U0STAKE>", "<!here>", "<#C0DEPLOYS|x>", "<!subteam"):
        assert not [t for t in said if sequence in t], sequence
    wait_for(lambda: edge.store.blocks("myapp", "staging"), what="the hold")
