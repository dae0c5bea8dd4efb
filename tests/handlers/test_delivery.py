"""What reaches the engine: only signed, fresh, untampered requests, each acted on once."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from handlers import ids
from tests.handlers.conftest import DEV, STAKE, Edge


def _nothing_happened(edge: Edge, before: dict[str, object]) -> None:
    assert edge.snapshot() == before
    assert edge.order.outside_calls() == []
    assert edge.emulator.history("C0DEPLOYS") == []
    assert edge.emulator.ephemerals(DEV) == []


def test_unsigned_request_gets_401_and_nothing_happens(edge: Edge) -> None:
    before = edge.snapshot()
    status, _ = edge.post(
        edge.command_body("staging"), {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 401
    _nothing_happened(edge, before)


def test_stale_request_gets_401_and_nothing_happens(edge: Edge) -> None:
    before = edge.snapshot()
    status, _ = edge.signed_post(edge.command_body("staging"), timestamp=int(time.time()) - 301)
    assert status == 401
    _nothing_happened(edge, before)


def test_tampered_request_gets_401_and_nothing_happens(edge: Edge) -> None:
    before = edge.snapshot()
    body = edge.command_body("status")
    ts = str(int(time.time()))
    from slack_sdk.signature import SignatureVerifier

    from tests.handlers.conftest import SECRET

    signature = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)
    tampered = body.replace("text=status", "text=staging")
    assert tampered != body
    status, _ = edge.post(
        tampered,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
        },
    )
    assert status == 401
    _nothing_happened(edge, before)


def test_signed_request_passes_the_same_check(edge: Edge) -> None:
    status, _ = edge.signed_post(edge.command_body("staging"))
    assert status == 200
    edge.wait_state(1, "awaiting_gates")


def test_retried_delivery_of_a_command_acts_once(edge: Edge) -> None:
    body = edge.command_body("staging")
    assert edge.signed_post(body)[0] == 200
    edge.wait_state(1, "awaiting_gates")
    edge.settle()
    status, answer = edge.signed_post(
        body, extra={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert status == 200 and answer == ""
    edge.settle()
    assert [e.kind for e in edge.store.events(1)].count("requested") == 1
    assert edge.store.get(2) is None
    assert not any("already has a live" in t for t in edge.ephemeral_texts(DEV))
    assert not any("is queued" in t for t in edge.ephemeral_texts(DEV))  # nor queued again
    assert edge.store.queue("myapp", "staging") == []


def test_double_click_acts_once(edge: Edge) -> None:
    edge.command("/promote staging")
    edge.wait_state(1, "awaiting_gates")
    edge.settle()
    ts = edge.card_of(1)["ts"]
    first = edge.click(DEV, ids.CANCEL, ts)
    # the second click of a double click: same button, its own action_ts and trigger
    payload = dict(first["payload"])
    payload["actions"] = [dict(payload["actions"][0], action_ts="9999999999.000001")]
    payload["trigger_id"] = edge.emulator.workspace.issue_trigger(DEV)
    status, answer = edge.signed_post(urlencode({"payload": json.dumps(payload)}))
    assert status == 200 and answer == ""
    edge.wait_state(1, "cancelled")
    edge.settle()
    assert [e.kind for e in edge.store.events(1)].count("cancelled") == 1
    answers = [t for t in edge.ephemeral_texts(DEV) if "#1" in t and "cancel" in t]
    assert answers == [":no_entry_sign: You cancelled #1."]


def test_double_click_through_the_emulator_acts_once(edge: Edge) -> None:
    edge.command("/promote prod")
    edge.wait_state(1, "awaiting_gates")
    edge.settle()
    ts = edge.card_of(1)["ts"]
    edge.click(STAKE, ids.APPROVE, ts)
    edge.click(STAKE, ids.APPROVE, ts)
    edge.wait_ephemeral(STAKE, "You approved #1")
    edge.settle()
    assert [e.kind for e in edge.store.events(1)].count("approved") == 1
    assert len([t for t in edge.ephemeral_texts(STAKE) if "You approved" in t]) == 1
