"""The emulator acting as Slack towards a real slack_bolt App served over HTTP: signed slash
commands, clicks and modal submissions reach the listeners, and the acks land as Slack shows."""

from __future__ import annotations

from typing import Any

import pytest
from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.slack import SlackEmulator, SlackError
from tests.slack.helpers import (
    APPROVE,
    BOT,
    DEPLOYS,
    DEV,
    REVIEWER,
    SECRET,
    TOKEN,
    BoltServer,
    card,
    make_bolt,
    wait_for,
)


def plan_modal(title: str = "Rollback plan") -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "rollback_plan",
        "private_metadata": "promotion-42",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": [
            {
                "type": "input",
                "block_id": "plan",
                "label": {"type": "plain_text", "text": "Plan"},
                "element": {"type": "plain_text_input", "action_id": "plan_text"},
            },
            {
                "type": "actions",
                "block_id": "extra",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "add_step",
                        "text": {"type": "plain_text", "text": "Add step"},
                        "value": "step",
                    }
                ],
            },
        ],
    }


def test_slash_command_reaches_listener_and_ack_text_shows_as_ephemeral(
    bolt: BoltServer, emulator: SlackEmulator
) -> None:
    @bolt.app.command("/promote")
    def promote(ack: Ack, body: dict[str, Any]) -> None:
        bolt.record("command", body)
        ack(f"Promoting to {body['text']}")

    result = emulator.command(DEV, DEPLOYS, "/promote staging")
    assert result["status"] == 200 and result["ack"] == "Promoting to staging"
    body = bolt.recorded("command")[0]
    assert body["command"] == "/promote" and body["text"] == "staging"
    assert (body["user_id"], body["channel_id"], body["channel_name"]) == (DEV, DEPLOYS, "deploys")
    assert body["team_id"] == "T0SANDBOX" and body["trigger_id"] == result["trigger_id"]
    assert body["response_url"].startswith(emulator.url + "/response/")
    assert [m["text"] for m in emulator.ephemerals(DEV, DEPLOYS)] == ["Promoting to staging"]
    assert emulator.history(DEPLOYS) == []


def test_slash_command_in_channel_ack_posts_to_channel_through_sandbox_method(
    bolt: BoltServer, emulator: SlackEmulator, client: WebClient
) -> None:
    @bolt.app.command("/promote")
    def promote(ack: Ack) -> None:
        ack(text="status of every env", response_type="in_channel", blocks=card())

    result = client.api_call(
        "sandbox.command", json={"user": DEV, "channel": DEPLOYS, "text": "/promote status"}
    )
    assert result["status"] == 200 and result["ack"]["response_type"] == "in_channel"
    shown = emulator.history(DEPLOYS)
    assert [m["text"] for m in shown] == ["status of every env"]
    assert shown[0]["blocks"][1]["elements"][0]["action_id"] == APPROVE
    assert emulator.ephemerals(DEV) == []


def test_wrong_signing_secret_gives_401_and_listener_never_runs(
    emulator: SlackEmulator,
) -> None:
    server = BoltServer(make_bolt(emulator, signing_secret="not-the-secret"))

    @server.app.command("/promote")
    def promote(ack: Ack, body: dict[str, Any]) -> None:
        server.record("command", body)
        ack("should never happen")

    server.server.start()
    try:
        emulator.bot_request_url = server.url
        result = emulator.command(DEV, DEPLOYS, "/promote staging")
    finally:
        server.server.stop()
    assert result["status"] == 401
    assert server.recorded("command") == []
    slackbot = emulator.ephemerals(DEV, DEPLOYS)
    assert [m["user"] for m in slackbot] == ["USLACKBOT"]
    assert "dispatch_failed" in slackbot[0]["text"]


def test_click_reaches_action_listener_with_container_and_message(
    bolt: BoltServer, emulator: SlackEmulator, client: WebClient
) -> None:
    @bolt.app.action(APPROVE)
    def approve(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        bolt.record("action", body)

    ts = client.chat_postMessage(channel=DEPLOYS, text="card", blocks=card("p1"))["ts"]
    result = client.api_call(
        "sandbox.click",
        json={"user": REVIEWER, "channel": DEPLOYS, "ts": ts, "action_id": APPROVE},
    )
    assert result["status"] == 200
    body = wait_for(lambda: bolt.recorded("action"))[0]
    assert body["type"] == "block_actions"
    assert body["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": DEPLOYS,
        "is_ephemeral": False,
    }
    assert body["channel"] == {"id": DEPLOYS, "name": "deploys"}
    assert body["user"]["id"] == REVIEWER and body["message"]["ts"] == ts
    assert body["message"]["blocks"] == emulator.history(DEPLOYS)[0]["blocks"]
    action = body["actions"][0]
    assert (action["type"], action["action_id"], action["block_id"]) == (
        "button",
        APPROVE,
        "decide",
    )
    assert action["value"] == "p1" and action["text"]["text"] == "Approve"
    assert body["response_url"].startswith(emulator.url + "/response/")
    assert body["trigger_id"] == result["trigger_id"]


def test_click_is_refused_when_the_message_has_no_such_button(
    emulator: SlackEmulator, client: WebClient, recorder: Any
) -> None:
    ts = client.chat_postMessage(channel=DEPLOYS, text="card", blocks=card())["ts"]
    with pytest.raises(SlackError) as missing_action:
        emulator.click(REVIEWER, "promotion.reject", channel=DEPLOYS, ts=ts)
    assert missing_action.value.code == "action_not_found"
    with pytest.raises(SlackApiError) as missing_message:
        client.api_call(
            "sandbox.click",
            json={"user": REVIEWER, "channel": DEPLOYS, "ts": "1.000001", "action_id": APPROVE},
        )
    assert missing_message.value.response["error"] == "message_not_found"
    plain = client.chat_postMessage(channel=DEPLOYS, text="no buttons")["ts"]
    with pytest.raises(SlackError):
        emulator.click(REVIEWER, APPROVE, channel=DEPLOYS, ts=plain)
    assert recorder.requests == []


def test_respond_replace_original_updates_the_clicked_message(
    bolt: BoltServer, emulator: SlackEmulator, client: WebClient
) -> None:
    @bolt.app.action(APPROVE)
    def approve(ack: Ack, respond: Respond, body: dict[str, Any]) -> None:
        ack()
        respond(replace_original=True, text=f"Approved by <@{body['user']['id']}>")

    ts = client.chat_postMessage(channel=DEPLOYS, text="card", blocks=card())["ts"]
    emulator.click(REVIEWER, APPROVE, channel=DEPLOYS, ts=ts)
    wait_for(lambda: emulator.history(DEPLOYS)[0]["text"].startswith("Approved"))
    versions = emulator.message_versions(DEPLOYS, ts)
    assert [v["text"] for v in versions] == ["card", f"Approved by <@{REVIEWER}>"]


def test_click_on_ephemeral_message_has_ephemeral_container_and_can_be_replaced(
    bolt: BoltServer, emulator: SlackEmulator, client: WebClient
) -> None:
    @bolt.app.action(APPROVE)
    def approve(ack: Ack, respond: Respond, body: dict[str, Any]) -> None:
        ack()
        bolt.record("action", body)
        respond(replace_original=True, text="done")

    ts = client.chat_postEphemeral(channel=DEPLOYS, user=DEV, text="retry?", blocks=card())[
        "message_ts"
    ]
    emulator.click(DEV, APPROVE, channel=DEPLOYS, ts=ts)
    body = wait_for(lambda: bolt.recorded("action"))[0]
    assert body["container"]["is_ephemeral"] is True and "message" not in body
    wait_for(lambda: emulator.ephemerals(DEV)[0]["text"] == "done")
    assert len(emulator.ephemerals(DEV)) == 1


def test_views_open_from_command_then_submit_reaches_view_listener(
    bolt: BoltServer, emulator: SlackEmulator, client: WebClient
) -> None:
    @bolt.app.command("/rollback")
    def rollback(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        opened = client.views_open(trigger_id=body["trigger_id"], view=plan_modal())
        bolt.record("opened", opened["view"])

    @bolt.app.view("rollback_plan")
    def save(ack: Ack, body: dict[str, Any]) -> None:
        bolt.record("view", body)
        ack()

    emulator.command(DEV, DEPLOYS, "/rollback prod")
    opened = wait_for(lambda: bolt.recorded("opened"))[0]
    assert opened["id"].startswith("V")
    assert [v["id"] for v in emulator.open_views(DEV)] == [opened["id"]]
    result = client.api_call(
        "sandbox.submit",
        json={"user": DEV, "view_id": opened["id"], "values": {"plan": {"plan_text": "revert"}}},
    )
    assert result["status"] == 200 and result["response_action"] == "close"
    body = bolt.recorded("view")[0]
    assert body["type"] == "view_submission" and body["user"]["id"] == DEV
    view = body["view"]
    assert (view["id"], view["callback_id"]) == (opened["id"], "rollback_plan")
    assert view["private_metadata"] == "promotion-42"
    assert view["state"]["values"]["plan"]["plan_text"] == {
        "type": "plain_text_input",
        "value": "revert",
    }
    assert emulator.open_views(DEV) == []


@pytest.mark.parametrize("answer", ["errors", "update", "push", "clear"])
def test_view_submission_ack_response_actions_are_applied(
    bolt: BoltServer, emulator: SlackEmulator, answer: str
) -> None:
    @bolt.app.view("rollback_plan")
    def save(ack: Ack, body: dict[str, Any]) -> None:
        value = body["view"]["state"]["values"]["plan"]["plan_text"]["value"]
        if value == "errors":
            ack(response_action="errors", errors={"plan": "Say how to roll back"})
        elif value in ("update", "push"):
            ack(response_action=value, view=plan_modal(title=f"After {value}"))
        else:
            ack(response_action="clear")

    trigger = emulator.workspace.issue_trigger(DEV)
    WebClient(token=TOKEN, base_url=emulator.api_url).views_open(
        trigger_id=trigger, view=plan_modal()
    )
    root = emulator.open_views(DEV)[0]["id"]
    result = emulator.submit(DEV, root, {"plan": {"plan_text": answer}})
    assert result["response_action"] == answer
    views = emulator.open_views(DEV)
    if answer == "errors":
        assert result["errors"] == {"plan": "Say how to roll back"}
        assert [v["id"] for v in views] == [root]
    elif answer == "update":
        assert [(v["id"], v["title"]["text"]) for v in views] == [(root, "After update")]
    elif answer == "push":
        assert [v["title"]["text"] for v in views] == ["Rollback plan", "After push"]
        assert views[1]["previous_view_id"] == root and views[1]["root_view_id"] == root
    else:
        assert views == []


def test_submit_with_required_input_empty_is_refused_before_reaching_the_app(
    emulator: SlackEmulator, recorder: Any
) -> None:
    trigger = emulator.workspace.issue_trigger(DEV)
    emulator.webapi.views_open({"trigger_id": trigger, "view": plan_modal()})
    root = emulator.open_views(DEV)[0]["id"]
    result = emulator.submit(DEV, root, {})
    assert result == {"ok": False, "error": "required_fields_missing", "block_ids": ["plan"]}
    assert recorder.requests == []
    with pytest.raises(SlackError):
        emulator.submit(REVIEWER, root, {"plan": {"plan_text": "not my modal"}})


def test_click_in_open_modal_sends_view_container(
    bolt: BoltServer, emulator: SlackEmulator
) -> None:
    @bolt.app.action("add_step")
    def add_step(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        bolt.record("action", body)

    emulator.webapi.views_open(
        {"trigger_id": emulator.workspace.issue_trigger(DEV), "view": plan_modal()}
    )
    root = emulator.open_views(DEV)[0]["id"]
    emulator.click(DEV, "add_step", view_id=root, values={"plan": {"plan_text": "half"}})
    body = wait_for(lambda: bolt.recorded("action"))[0]
    assert body["container"] == {"type": "view", "view_id": root}
    assert body["view"]["id"] == root and "response_url" not in body
    assert body["state"]["values"]["plan"]["plan_text"]["value"] == "half"
    assert body["actions"][0]["value"] == "step"


def test_bot_messages_posted_from_listeners_carry_bot_identity(
    bolt: BoltServer, emulator: SlackEmulator
) -> None:
    @bolt.app.command("/promote")
    def promote(ack: Ack, say: Any) -> None:
        ack()
        say(text="Promotion requested", blocks=card())

    emulator.command(DEV, DEPLOYS, "/promote staging")
    shown = wait_for(lambda: emulator.history(DEPLOYS))
    assert shown[0]["user"] == BOT and shown[0]["text"] == "Promotion requested"
    assert SECRET not in str(emulator.state())
