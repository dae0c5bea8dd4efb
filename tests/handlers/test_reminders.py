"""Reminders, escalation and expiry through the real Bolt app and the Slack emulator: each on
the card and in its thread when due (the test steps the bot's clock and runs the leader's due
job), the approvers who have not answered reminded by direct message, the escalation group
told, and nothing sent twice."""

from __future__ import annotations

from collections.abc import Callable

from handlers import ids
from slackbot.pipeline import Pipeline
from tests.core.test_timers import pipeline_with
from tests.handlers.conftest import DEPLOYS, DEV, ONCALL, STAKE, STAKE2, Edge, wait_for
from tests.handlers.test_promotion_card import _text_of

WAITING = {"remindAfter": "2h", "escalateAfter": "6h", "escalateTo": ONCALL,
           "expireAfter": "12h"}


def _waiting_prod(edge: Edge) -> dict:
    sha = edge.forge.push("staging")
    edge.cluster.deploy("myapp-staging", "staging", sha)
    edge.command("/promote prod")
    edge.wait_state(1, "awaiting_gates")
    edge.settle()
    return edge.card_of(1)


def _replies(edge: Edge, card: dict) -> list[str]:
    return [r["text"] for r in edge.emulator.replies(DEPLOYS, card["ts"])[1:]]


def test_the_card_shows_when_it_reminds_escalates_and_expires(
        edge_with: Callable[[Pipeline], Edge]) -> None:
    edge = edge_with(pipeline_with({"waiting": WAITING}))
    card = _waiting_prod(edge)
    text = _text_of(card)
    start = int(edge.store.get(1).requested_at.timestamp())  # type: ignore[union-attr]
    assert f":bell: reminder <!date^{start + 2 * 3600}^" in text
    assert f"escalates to <!subteam^{ONCALL}> <!date^{start + 6 * 3600}^" in text
    assert f"expires <!date^{start + 12 * 3600}^" in text


def test_a_due_reminder_goes_to_the_thread_and_to_each_approver_directly_once(
        edge_with: Callable[[Pipeline], Edge]) -> None:
    edge = edge_with(pipeline_with({"waiting": WAITING}))
    card = _waiting_prod(edge)
    edge.clock.advance(hours=2)
    edge.bot.runner.due()  # the leader's due job
    edge.wait_card(1, lambda c: ":bell: reminded" in _text_of(c), "the reminder on the card")
    edge.settle()
    replies = _replies(edge, card)
    [reminder] = [r for r in replies if r.startswith(":bell:")]
    assert "has waited 2h for its gates" in reminder and "0 of 1 stakeholder approval" in reminder
    assert f"<@{STAKE}>" in reminder and f"<@{STAKE2}>" in reminder
    for person in (STAKE, STAKE2):
        [dm] = edge.emulator.direct_messages(person)
        assert dm["text"].startswith(":bell: Promotion P-1 of myapp to prod")
        assert "needs your approval" in dm["text"] and f"<#{DEPLOYS}>" in dm["text"]
    assert edge.emulator.direct_messages(DEV) == []  # the requester approves nothing
    for _ in range(3):  # later looks, the poll, a restart's resume: nothing again
        edge.bot.runner.due()
        edge.bot.runner.tick()
    edge.settle()
    assert len(edge.emulator.direct_messages(STAKE)) == 1
    assert len([r for r in _replies(edge, card) if r.startswith(":bell:")]) == 1


def test_an_approver_who_answered_is_not_reminded(
        edge_with: Callable[[Pipeline], Edge]) -> None:
    edge = edge_with(pipeline_with({"waiting": WAITING},
                                   {"stakeholderApprovals": 2}))
    card = _waiting_prod(edge)
    edge.click(STAKE, ids.APPROVE, card["ts"])
    edge.wait_ephemeral(STAKE, "You approved P-1")
    edge.clock.advance(hours=2)
    edge.bot.runner.due()
    wait_for(lambda: edge.emulator.direct_messages(STAKE2), what="the reminder to sue")
    edge.settle()
    assert edge.emulator.direct_messages(STAKE) == []


def test_the_escalation_tells_the_second_group_in_the_thread_and_directly(
        edge_with: Callable[[Pipeline], Edge]) -> None:
    edge = edge_with(pipeline_with({"waiting": WAITING}))
    card = _waiting_prod(edge)
    edge.clock.advance(hours=6)
    edge.bot.runner.due()
    edge.wait_card(1, lambda c: "escalated to" in _text_of(c), "the escalation on the card")
    edge.settle()
    [escalation] = [r for r in _replies(edge, card) if r.startswith(":rotating_light:")]
    assert escalation.startswith(f":rotating_light: <!subteam^{ONCALL}>: P-1 has waited 6h")
    dms = [m["text"] for m in edge.emulator.direct_messages(STAKE)]  # sam is on call
    assert any(t.startswith(f":rotating_light: Escalated to <!subteam^{ONCALL}>") for t in dms)
    assert any(t.startswith(":bell:") for t in dms)  # the reminder was due too, once


def test_expiry_after_the_envs_own_time_ends_the_card(
        edge_with: Callable[[Pipeline], Edge]) -> None:
    edge = edge_with(pipeline_with({"waiting": {"expireAfter": "90m"}}))
    _waiting_prod(edge)
    edge.clock.advance(minutes=90)
    edge.bot.runner.due()
    edge.wait_state(1, "expired")
    card = edge.wait_card(1, lambda c: "Expired:" in _text_of(c), "the expiry on the card")
    assert ":alarm_clock: *Expired:* expired waiting for its gates" in _text_of(card)
    assert ids.RETRY in [e["action_id"] for b in card["blocks"] if b["type"] == "actions"
                         for e in b["elements"]]


def test_a_direct_message_slack_refuses_holds_nothing_back(
        edge_with: Callable[[Pipeline], Edge]) -> None:
    """An approver named in the file whom Slack does not know (left the workspace): their
    reminder is refused by Slack, logged and skipped; the others' and the thread go on."""
    edge = edge_with(pipeline_with({"waiting": WAITING},
                                   {"approvers": {"users": ["U0GONE001"]}}))
    card = _waiting_prod(edge)
    edge.clock.advance(hours=2)
    edge.bot.runner.due()
    wait_for(lambda: edge.emulator.direct_messages(STAKE2), what="sue's reminder")
    edge.settle()
    assert edge.emulator.direct_messages(STAKE)
    [reminder] = [r for r in _replies(edge, card) if r.startswith(":bell:")]
    assert "<@U0GONE001>" in reminder
    edge.clock.advance(hours=4)  # the escalation still follows in the thread
    edge.bot.runner.due()
    edge.wait_card(1, lambda c: "escalated to" in _text_of(c), "the escalation")
