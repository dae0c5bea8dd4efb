"""What the emulator sends to the app: every payload is signed as Slack signs it and parses as
Bolt expects; failed deliveries are reported as Slack reports them; bad requests never crash it."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import parse_qsl

import pytest
from slack_bolt.request.internals import parse_body
from slack_bolt.request.payload_utils import (
    is_block_actions,
    is_slash_command,
    is_view_closed,
    is_view_submission,
)
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from sandbox.slack import SlackEmulator
from tests.slack.helpers import APPROVE, DEPLOYS, DEV, OUTSIDER, SECRET, Recorder, card

MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "plan",
    "notify_on_close": True,
    "title": {"type": "plain_text", "text": "Plan"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [
        {
            "type": "input",
            "block_id": "env",
            "label": {"type": "plain_text", "text": "Env"},
            "element": {
                "type": "static_select",
                "action_id": "choice",
                "options": [
                    {"text": {"type": "plain_text", "text": n}, "value": n}
                    for n in ("dev", "staging", "prod")
                ],
            },
        },
        {
            "type": "actions",
            "block_id": "more",
            "elements": [
                {"type": "button", "action_id": "more", "text": {"type": "plain_text", "text": "+"}}
            ],
        },
    ],
}


def drive_every_payload(emulator: SlackEmulator, client: WebClient) -> None:
    emulator.command(DEV, DEPLOYS, "/promote staging")
    ts = client.chat_postMessage(channel=DEPLOYS, text="card", blocks=card())["ts"]
    emulator.click(DEV, APPROVE, channel=DEPLOYS, ts=ts)
    view = client.views_open(trigger_id=emulator.workspace.issue_trigger(DEV), view=MODAL)["view"]
    emulator.click(DEV, "more", view_id=view["id"])
    emulator.submit(DEV, view["id"], {"env": {"choice": "prod"}})
    view = client.views_open(trigger_id=emulator.workspace.issue_trigger(DEV), view=MODAL)["view"]
    emulator.interactions.close(DEV, view["id"])


def test_every_payload_is_signed_and_parses_as_bolt_expects(
    emulator: SlackEmulator, client: WebClient, recorder: Recorder
) -> None:
    recorder.status, recorder.body = 200, '{"response_action": "errors", "errors": {}}'
    drive_every_payload(emulator, client)
    verifier, impostor = SignatureVerifier(SECRET), SignatureVerifier("another-secret")
    kinds = []
    for headers, body in recorder.requests:
        timestamp, signature = headers["x-slack-request-timestamp"], headers["x-slack-signature"]
        assert headers["content-type"] == "application/x-www-form-urlencoded"
        assert verifier.is_valid(body=body, timestamp=timestamp, signature=signature)
        assert not impostor.is_valid(body=body, timestamp=timestamp, signature=signature)
        parsed = parse_body(body, headers["content-type"])
        for name, check in [
            ("command", is_slash_command),
            ("block_actions", is_block_actions),
            ("view_submission", is_view_submission),
            ("view_closed", is_view_closed),
        ]:
            if check(parsed):
                kinds.append(name)
    assert kinds == ["command", "block_actions", "block_actions", "view_submission", "view_closed"]


def test_slash_command_carries_every_field_slack_sends(
    emulator: SlackEmulator, recorder: Recorder
) -> None:
    emulator.command(DEV, DEPLOYS, "/promote   prod  now")
    fields = dict(parse_qsl(recorder.requests[0][1], keep_blank_values=True))
    assert set(fields) == {
        "token", "team_id", "team_domain", "channel_id", "channel_name", "user_id", "user_name",
        "command", "text", "api_app_id", "is_enterprise_install", "response_url", "trigger_id",
    }  # fmt: skip
    assert (fields["command"], fields["text"]) == ("/promote", "prod  now")
    assert "%2Fpromote" in recorder.requests[0][1]


def test_select_in_modal_submission_sends_selected_option(
    emulator: SlackEmulator, client: WebClient, recorder: Recorder
) -> None:
    view = client.views_open(trigger_id=emulator.workspace.issue_trigger(DEV), view=MODAL)["view"]
    emulator.submit(DEV, view["id"], {"env": {"choice": "staging"}})
    payload = json.loads(dict(parse_qsl(recorder.requests[0][1]))["payload"])
    choice = payload["view"]["state"]["values"]["env"]["choice"]
    assert choice["type"] == "static_select"
    assert choice["selected_option"]["value"] == "staging"


def test_user_must_be_in_channel_to_run_a_command(
    emulator: SlackEmulator, client: WebClient, recorder: Recorder
) -> None:
    answer = client.api_call(
        "sandbox.command", json={"user": DEV, "channel": DEPLOYS, "text": "/promote x"}
    )
    assert answer["ok"] is True and answer["status"] == 200
    with pytest.raises(SlackApiError) as refused:
        client.api_call(
            "sandbox.command", params={"user": OUTSIDER, "channel": DEPLOYS, "text": "/promote x"}
        )
    assert refused.value.response["error"] == "user_not_in_channel"
    assert len(recorder.requests) == 1


def test_slow_app_is_reported_as_operation_timeout(
    emulator: SlackEmulator, recorder: Recorder
) -> None:
    recorder.delay = 0.6
    emulator.interactions.ack_timeout = 0.2
    result = emulator.command(DEV, DEPLOYS, "/promote staging")
    assert result["error"] == "operation_timeout" and result["status"] is None
    assert "operation_timeout" in emulator.ephemerals(DEV)[0]["text"]


def test_missing_or_unreachable_app_is_reported_as_dispatch_failed(emulator: SlackEmulator) -> None:
    assert emulator.command(DEV, DEPLOYS, "/promote staging")["error"] == "dispatch_failed"
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        emulator.bot_request_url = f"http://127.0.0.1:{probe.getsockname()[1]}/slack/events"
    assert emulator.command(DEV, DEPLOYS, "/promote staging")["error"] == "dispatch_failed"


def test_bad_requests_never_crash_the_emulator(emulator: SlackEmulator) -> None:
    def status_of(path: str, body: bytes | None, content_type: str = "application/json") -> int:
        request = urllib.request.Request(
            emulator.url + path, data=body, headers={"Content-Type": content_type}
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return exc.code

    assert status_of("/nowhere", None) == 404
    assert status_of("/api/sandbox.command", b'{"user": 5, "channel": [], "text": {}}') == 200
    assert status_of("/api/sandbox.submit", b'{"user": "U0DEV0001", "values": "{bad"}') == 200
    assert status_of("/api/sandbox.click", b'{"user": "U0DEV0001"}') == 200
    assert status_of("/api/conversations.history?limit=abc", b"", "text/plain") == 200
    with socket.create_connection(("127.0.0.1", int(emulator.url.rsplit(":", 1)[1]))) as raw:
        raw.sendall(b"GARBAGE / NOT-HTTP\r\n\r\n")
        raw.recv(1024)
    assert status_of("/api/auth.test", b"{}") == 200
