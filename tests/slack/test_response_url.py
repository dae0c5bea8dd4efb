"""response_url endpoints through slack_sdk's WebhookClient: response_type, replace_original,
delete_original, thread_ts, and at most five uses."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

from sandbox.slack import SlackEmulator
from tests.slack.helpers import APPROVE, BOT, DEPLOYS, DEV, REVIEWER, Recorder, card


def command_url(emulator: SlackEmulator) -> str:
    return str(emulator.command(DEV, DEPLOYS, "/promote staging")["response_url"])


def test_response_url_posts_ephemeral_by_default(
    emulator: SlackEmulator, recorder: Recorder
) -> None:
    response = WebhookClient(command_url(emulator)).send(text="working on it")
    assert response.status_code == 200
    assert [m["text"] for m in emulator.ephemerals(DEV, DEPLOYS)] == ["working on it"]
    assert emulator.history(DEPLOYS) == []


def test_response_url_in_channel_posts_message_and_honours_thread_ts(
    emulator: SlackEmulator, recorder: Recorder, client: WebClient
) -> None:
    parent = client.chat_postMessage(channel=DEPLOYS, text="card")["ts"]
    hook = WebhookClient(command_url(emulator))
    assert hook.send(text="for everyone", response_type="in_channel").status_code == 200
    in_thread = hook.send_dict(
        {"text": "detail", "response_type": "in_channel", "thread_ts": parent}
    )
    assert in_thread.status_code == 200
    assert [m["text"] for m in emulator.history(DEPLOYS)] == ["for everyone", "card"]
    replies = emulator.replies(DEPLOYS, parent)
    assert [m["text"] for m in replies] == ["card", "detail"]
    assert replies[1]["user"] == BOT


def test_response_url_replace_original_replaces_previous_ephemeral_of_a_command(
    emulator: SlackEmulator, recorder: Recorder
) -> None:
    recorder.body = "Checking gates"
    hook = WebhookClient(command_url(emulator))
    assert hook.send(text="Gates green", replace_original=True).status_code == 200
    assert [m["text"] for m in emulator.ephemerals(DEV)] == ["Gates green"]


def test_response_url_replace_and_delete_original_of_clicked_message(
    emulator: SlackEmulator, recorder: Recorder, client: WebClient
) -> None:
    ts = client.chat_postMessage(channel=DEPLOYS, text="card", blocks=card())["ts"]
    url = emulator.click(REVIEWER, APPROVE, channel=DEPLOYS, ts=ts)["response_url"]
    hook = WebhookClient(url)
    assert hook.send(text="approved", replace_original=True).status_code == 200
    shown = emulator.history(DEPLOYS)
    assert [(m["ts"], m["text"]) for m in shown] == [(ts, "approved")]
    assert [v["text"] for v in emulator.message_versions(DEPLOYS, ts)] == ["card", "approved"]
    assert "blocks" not in shown[0]  # replace_original replaces the whole message
    assert hook.send_dict({"delete_original": True}).status_code == 200
    assert emulator.history(DEPLOYS) == []


def test_response_url_works_five_times_then_404(
    emulator: SlackEmulator, recorder: Recorder
) -> None:
    hook = WebhookClient(command_url(emulator))
    statuses = [hook.send(text=f"update {i}").status_code for i in range(6)]
    assert statuses == [200, 200, 200, 200, 200, 404]
    assert len(emulator.ephemerals(DEV)) == 5


def test_response_url_rejects_bad_payloads_and_unknown_urls(
    emulator: SlackEmulator, recorder: Recorder
) -> None:
    url = command_url(emulator)
    assert WebhookClient(url).send_dict({"response_type": "in_channel"}).status_code == 400
    request = urllib.request.Request(url, data=b"{oops", method="POST")
    try:
        urllib.request.urlopen(request, timeout=5)
        raise AssertionError("expected HTTP 400")
    except urllib.error.HTTPError as exc:
        assert exc.code == 400
        assert json.loads(exc.read())["error"] == "invalid_payload"
    unknown = WebhookClient(emulator.url + "/response/999x1").send(text="x")
    assert unknown.status_code == 404
    assert emulator.ephemerals(DEV) == []
