"""The queue through the real Bolt app: a second /promote staging while one is live is queued
with its place on an ephemeral and on the live card, `/promote leave staging` takes the person
out, and when the live one ends the next starts by itself, its requester told directly."""

from __future__ import annotations

from handlers import ids
from tests.handlers.conftest import DEPLOYS, DEV, REVIEWER, STAKE2, Edge, wait_for
from tests.handlers.test_promotion_card import _text_of


def _live_staging(edge: Edge) -> dict:
    edge.command("/promote staging")
    edge.wait_state(1, "awaiting_gates")
    edge.settle()
    return edge.card_of(1)


def test_a_second_request_is_queued_with_its_place_on_the_ephemeral_and_the_card(
        edge: Edge) -> None:
    _live_staging(edge)
    edge.command("/promote staging", user=REVIEWER)
    answer = edge.wait_ephemeral(REVIEWER, "is queued")
    assert f"staging has a live promotion (#1 by <@{DEV}>, awaiting gates)" in answer
    assert "next in line (1 in queue)" in answer and "/promote leave staging" in answer
    card = edge.wait_card(1, lambda c: "next: <@" in _text_of(c), "the queue on the live card")
    assert f"next: <@{REVIEWER}>'s request, 1 in queue" in _text_of(card)
    edge.command("/promote staging", user=STAKE2)
    assert "number 2 in line (2 in queue)" in edge.wait_ephemeral(STAKE2, "is queued")
    edge.wait_card(1, lambda c: "2 in queue" in _text_of(c), "two in queue on the card")
    edge.settle()
    assert len(edge.cards()) == 1  # nothing started meanwhile
    replies = [r["text"] for r in edge.emulator.replies(DEPLOYS, card["ts"])[1:]]
    assert any(f"<@{REVIEWER}>'s request for staging waits behind #1" in r for r in replies)


def test_leaving_the_queue_and_asking_twice(edge: Edge) -> None:
    _live_staging(edge)
    edge.command("/promote staging", user=REVIEWER)
    edge.wait_ephemeral(REVIEWER, "is queued")
    edge.command("/promote staging", user=REVIEWER)
    edge.wait_ephemeral(REVIEWER, "you are already in the queue for staging of myapp, at "
                                  "position 1")
    edge.command("/promote leave staging", user=REVIEWER)
    edge.wait_ephemeral(REVIEWER, "You left the queue for staging of myapp")
    edge.wait_card(1, lambda c: "in queue" not in _text_of(c), "the queue gone from the card")
    edge.command("/promote leave staging", user=REVIEWER)
    edge.wait_ephemeral(REVIEWER, "you are not in the queue for staging of myapp")
    assert "`leave` needs an environment" in edge.command("/promote leave")["ack"]["text"]


def test_the_next_starts_by_itself_when_the_live_one_ends_and_its_requester_is_told(
        edge: Edge) -> None:
    card = _live_staging(edge)
    edge.command("/promote staging", user=REVIEWER)
    edge.wait_ephemeral(REVIEWER, "is queued")
    edge.click(DEV, ids.CANCEL, card["ts"])
    edge.wait_state(2, "awaiting_gates")
    second = edge.store.get(2)
    assert second is not None and second.requested_by == REVIEWER
    edge.settle()
    assert "Started from the queue" in _text_of(edge.card_of(2))
    dm = wait_for(lambda: edge.emulator.direct_messages(REVIEWER), what="the direct message")
    assert dm[-1]["text"].startswith(":arrow_forward: Your queued request has started: "
                                     "Promotion #2 of myapp to staging")
    assert f"<#{DEPLOYS}>" in dm[-1]["text"]
    assert edge.emulator.direct_messages(DEV) == []
    assert "in queue" not in _text_of(edge.card_of(1))


def test_a_queued_request_a_rule_refuses_at_its_start_is_told_why(edge: Edge) -> None:
    card = _live_staging(edge)
    edge.command("/promote staging", user=REVIEWER)
    edge.wait_ephemeral(REVIEWER, "is queued")
    edge.command("/promote freeze staging release train", user=STAKE2)
    wait_for(lambda: edge.store.blocks("myapp", "staging"), what="the freeze")
    edge.click(DEV, ids.CANCEL, card["ts"])
    dm = wait_for(lambda: edge.emulator.direct_messages(REVIEWER), what="the refusal")
    text = dm[-1]["text"]
    assert text.startswith(":no_entry: Your queued request to promote myapp to staging could "
                           "not start: staging is frozen by")
    assert "release train" in text
    edge.settle()
    assert edge.store.live("myapp", "staging") is None and len(edge.cards()) == 1
    replies = [r["text"] for r in edge.emulator.replies(DEPLOYS, card["ts"])[1:]]
    assert any("queued request for staging could not start" in r for r in replies)
