"""Buttons and modals of a prod promotion: Approve as a stakeholder, refusals with their reason,
Reject with a reason modal, the rollback plan modal, and buttons of a finished promotion."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from handlers import ids
from handlers.notifier import CardRef
from tests.handlers.conftest import DEV, OUTSIDER, STAKE, STAKE2, Edge, wait_for
from tests.handlers.test_promotion_card import _action_ids, _text_of


def _prod(edge: Edge) -> dict[str, Any]:
    edge.command("/promote prod")
    edge.wait_state(1, "awaiting_gates")
    edge.settle()
    return edge.card_of(1)


def test_prod_card_offers_approve_reject_plan_and_cancel(edge: Edge) -> None:
    card = _prod(edge)
    assert _action_ids(card) == [ids.APPROVE, ids.REJECT, ids.ADD_PLAN, ids.CANCEL]
    approve = card["blocks"][-2]["elements"][0]
    record = edge.store.get(1)
    assert record is not None
    assert json.loads(approve["value"]) == {"id": 1, "sha": record.head_sha}
    text = _text_of(card)
    assert "0 of 1 stakeholder approval; 1 more needed" in text
    assert "rollback plan needed" in text


def test_approve_by_stakeholder_counts_and_shows_who(edge: Edge) -> None:
    card = _prod(edge)
    edge.click(STAKE, ids.APPROVE, card["ts"])
    edge.wait_ephemeral(STAKE, "You approved P-1")
    record = edge.store.get(1)
    assert record is not None and record.approvers() == (STAKE,)
    # the approval is on the card at once; the gates follow when the runner re-reads them
    edge.wait_card(1, lambda c: f"Approved by <@{STAKE}>" in _text_of(c), "approval on the card")
    edge.wait_card(1, lambda c: f"1 of 1 stakeholder approval (<@{STAKE}>)" in _text_of(c),
                   "the stakeholders gate passed on the card")


def test_approve_by_requester_is_refused_with_reason(edge: Edge) -> None:
    card = _prod(edge)
    edge.click(DEV, ids.APPROVE, card["ts"])
    text = edge.wait_ephemeral(DEV, "cannot approve")
    assert "you asked for P-1" in text
    record = edge.store.get(1)
    assert record is not None and record.approvals == ()


def test_approve_from_outside_the_group_is_refused(edge: Edge) -> None:
    card = _prod(edge)
    edge.click(OUTSIDER, ids.APPROVE, card["ts"])
    # the requester (dana, a stakeholder too) is not among the people to ask
    edge.wait_ephemeral(OUTSIDER, f"approving P-1 needs the stakeholder role: ask <@{STAKE}> or "
                                  f"<@{STAKE2}>")
    record = edge.store.get(1)
    assert record is not None and record.approvals == ()


def test_button_ack_reaches_slack_before_any_forge_or_cluster_call(edge: Edge) -> None:
    card = _prod(edge)
    before = len(edge.order.log)
    edge.order.hold()
    result = edge.click(STAKE, ids.APPROVE, card["ts"])
    edge.order.note("ack received by Slack")
    edge.order.release()
    assert result["status"] == 200 and result["error"] is None
    edge.wait_ephemeral(STAKE, "You approved P-1")
    edge.settle()  # the approval's wake: the runner re-reads the gates on the workers
    after = edge.order.log[before:]
    assert after[0] == "ack received by Slack"
    assert any(e.startswith("forge") for e in after[1:])


def test_reject_opens_modal_and_the_reason_rejects(edge: Edge) -> None:
    card = _prod(edge)
    edge.click(STAKE, ids.REJECT, card["ts"])
    modal = wait_for(lambda: edge.emulator.open_views(STAKE), what="the reject modal")[0]
    assert modal["callback_id"] == ids.REJECT_VIEW
    result = edge.emulator.submit(
        STAKE, modal["id"], {ids.REASON_BLOCK: {ids.REASON_INPUT: "no load test <yet> & @channel"}}
    )
    assert result["response_action"] == "close"
    edge.wait_state(1, "rejected")
    edge.wait_ephemeral(STAKE, "You rejected P-1")
    text = _text_of(edge.card_of(1))
    assert f"Rejected by <@{STAKE}>:* no load test &lt;yet&gt; &amp; @channel" in text
    assert _action_ids(edge.card_of(1)) == [ids.RETRY]


def test_empty_reason_keeps_the_modal_open_with_an_error(edge: Edge) -> None:
    card = _prod(edge)
    edge.click(STAKE, ids.REJECT, card["ts"])
    modal = wait_for(lambda: edge.emulator.open_views(STAKE), what="the reject modal")[0]
    result = edge.emulator.submit(STAKE, modal["id"], {ids.REASON_BLOCK: {ids.REASON_INPUT: "  "}})
    assert result["response_action"] == "errors"
    assert ids.REASON_BLOCK in result["errors"]
    assert len(edge.emulator.open_views(STAKE)) == 1
    record = edge.store.get(1)
    assert record is not None and record.state.value == "awaiting_gates"


def test_reject_by_outsider_is_refused_before_the_modal_opens(edge: Edge) -> None:
    card = _prod(edge)
    edge.click(OUTSIDER, ids.REJECT, card["ts"])
    edge.wait_ephemeral(OUTSIDER, "rejecting P-1 needs the stakeholder role")
    assert edge.emulator.open_views(OUTSIDER) == []  # nobody types a reason in vain
    record = edge.store.get(1)
    assert record is not None and record.state.value == "awaiting_gates"


def test_rollback_plan_modal_saves_plan_on_card_and_pull_request(edge: Edge) -> None:
    card = _prod(edge)
    edge.click(STAKE2, ids.ADD_PLAN, card["ts"])
    modal = wait_for(lambda: edge.emulator.open_views(STAKE2), what="the plan modal")[0]
    assert modal["callback_id"] == ids.PLAN_VIEW
    edge.emulator.submit(
        STAKE2, modal["id"], {ids.PLAN_BLOCK: {ids.PLAN_INPUT: "revert the merge commit on prod"}}
    )
    edge.wait_ephemeral(STAKE2, "rollback plan of P-1 is saved")
    record = edge.store.get(1)
    assert record is not None and record.rollback_plan == "revert the merge commit on prod"
    assert "revert the merge commit on prod" in edge.forge.pulls[record.pr_number or 0].body
    updated = edge.wait_card(
        1, lambda c: ids.ADD_PLAN not in _action_ids(c), "the card without Add rollback plan"
    )
    assert "*Rollback plan*\nrevert the merge commit on prod" in _text_of(updated)


def test_button_of_a_finished_promotion_says_it_is_finished(edge: Edge) -> None:
    card = _prod(edge)
    click = edge.click(STAKE, ids.REJECT, card["ts"])  # keep the payload of a live card
    edge.command("/promote cancel 1")
    edge.wait_state(1, "cancelled")
    for action_id in (ids.APPROVE, ids.REJECT):
        payload = dict(click["payload"])
        action = dict(payload["actions"][0], action_id=action_id, action_ts=f"9{action_id}")
        if action_id == ids.APPROVE:
            action["value"] = card["blocks"][-2]["elements"][0]["value"]
        payload["actions"] = [action]
        payload["trigger_id"] = edge.emulator.workspace.issue_trigger(STAKE)
        status, _ = edge.signed_post(urlencode({"payload": json.dumps(payload)}))
        assert status == 200
    edge.wait_ephemeral(STAKE, "P-1 is already cancelled: there is nothing to approve")
    edge.wait_ephemeral(STAKE, "P-1 is already cancelled: its buttons do nothing now")


@pytest.mark.parametrize("action_id", [ids.CANCEL, ids.REJECT, ids.ADD_PLAN])
def test_every_card_button_is_acked_before_any_outside_call(edge: Edge, action_id: str) -> None:
    card = _prod(edge)
    before = len(edge.order.log)
    edge.order.hold()
    result = edge.click(STAKE, action_id, card["ts"])
    edge.order.note("ack received by Slack")
    edge.order.release()
    assert result["status"] == 200 and result["error"] is None
    edge.settle()
    wait_for(
        lambda: edge.ephemeral_texts(STAKE) or edge.emulator.open_views(STAKE),
        what="the answer to the click",
    )
    assert edge.order.log[before] == "ack received by Slack"


def test_retry_is_acked_before_any_outside_call(edge: Edge) -> None:
    card = _prod(edge)
    edge.click(DEV, ids.CANCEL, card["ts"])
    edge.wait_state(1, "cancelled")
    edge.settle()
    before = len(edge.order.log)
    edge.order.hold()
    result = edge.click(DEV, ids.RETRY, edge.card_of(1)["ts"])
    edge.order.note("ack received by Slack")
    edge.order.release()
    assert result["error"] is None
    edge.wait_state(2, "awaiting_gates")
    assert edge.order.log[before] == "ack received by Slack"
    assert edge.order.log[before + 1] == "forge compare"


def test_a_deleted_card_is_posted_again_on_the_next_change(edge: Edge) -> None:
    card = _prod(edge)
    edge.emulator.workspace.delete_message("C0DEPLOYS", card["ts"])
    edge.core.commands.cancel(1, DEV)
    fresh = edge.wait_state(1, "cancelled")
    assert fresh.state.value == "cancelled"
    edge.settle()
    cards = edge.cards()
    assert len(cards) == 1 and cards[0]["ts"] != card["ts"]
    shown = len(edge.store.events(1))  # threaded, and on the card's timeline
    assert edge.bot.card_of(1) == CardRef("C0DEPLOYS", cards[0]["ts"], shown, fresh.version,
                                          shown, mirrored=True)
