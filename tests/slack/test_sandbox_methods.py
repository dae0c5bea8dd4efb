"""The emulator's own sandbox.* methods over HTTP (as the web UI will call them), and its
thread safety under concurrent Web API calls."""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import parse_qsl

from slack_sdk import WebClient

from sandbox.slack import SlackEmulator
from tests.slack.helpers import DEPLOYS, DEV, INCIDENTS, REVIEWER, TOKEN, Recorder

MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "reason",
    "title": {"type": "plain_text", "text": "Reason"},
    "submit": {"type": "plain_text", "text": "Send"},
    "blocks": [
        {
            "type": "input",
            "block_id": "why",
            "label": {"type": "plain_text", "text": "Why"},
            "element": {"type": "plain_text_input", "action_id": "text"},
        }
    ],
}


def test_sandbox_methods_accept_form_bodies_like_the_web_api(
    emulator: SlackEmulator, recorder: Recorder
) -> None:
    anonymous = WebClient(base_url=emulator.api_url)  # sandbox.* need no token
    recorder.body = "queued"
    command = anonymous.api_call(
        "sandbox.command", params={"user": DEV, "channel": DEPLOYS, "text": "/promote staging"}
    )
    assert (command["status"], command["ack"]) == (200, "queued")
    ephemerals = anonymous.api_call("sandbox.ephemerals", params={"user": DEV})["messages"]
    assert [(m["channel"], m["text"]) for m in ephemerals] == [(DEPLOYS, "queued")]
    elsewhere = anonymous.api_call("sandbox.ephemerals", params={"user": DEV, "channel": INCIDENTS})
    assert elsewhere["messages"] == []

    WebClient(token=TOKEN, base_url=emulator.api_url).views_open(
        trigger_id=command["trigger_id"], view=MODAL
    )
    view_id = anonymous.api_call("sandbox.views", params={"user": DEV})["views"][0]["id"]
    recorder.body = ""
    submitted = anonymous.api_call(
        "sandbox.submit",
        params={"user": DEV, "view_id": view_id, "values": json.dumps({"why": {"text": "ok"}})},
    )
    assert submitted["status"] == 200 and submitted["response_action"] == "close"
    payload = json.loads(dict(parse_qsl(recorder.requests[-1][1]))["payload"])
    assert payload["view"]["state"]["values"]["why"]["text"]["value"] == "ok"
    assert anonymous.api_call("sandbox.views", params={"user": DEV})["views"] == []


def test_sandbox_post_writes_as_a_person_and_shows_in_state(emulator: SlackEmulator) -> None:
    anonymous = WebClient(base_url=emulator.api_url)
    posted = anonymous.api_call(
        "sandbox.post", json={"user": REVIEWER, "channel": DEPLOYS, "text": "shipping?"}
    )
    assert posted["message"]["user"] == REVIEWER
    state = anonymous.api_call("sandbox.state").data
    assert isinstance(state, dict)
    deploys = next(c for c in state["channels"] if c["id"] == DEPLOYS)
    assert [m["text"] for m in deploys["messages"]] == ["shipping?"]


def test_concurrent_posts_get_unique_increasing_ts(
    emulator: SlackEmulator, client: WebClient
) -> None:
    emulator.set_slack_limits([])  # 60 posts at once: about timestamps, not the posting limit
    results: list[str] = []
    lock = threading.Lock()

    def post(worker: int) -> None:
        for i in range(10):
            ts = client.chat_postMessage(channel=DEPLOYS, text=f"{worker}-{i}")["ts"]
            with lock:
                results.append(ts)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 60 and len(set(results)) == 60
    shown = [m["ts"] for m in emulator.history(DEPLOYS)]
    assert shown == sorted(results, key=lambda ts: tuple(map(int, ts.split("."))), reverse=True)
