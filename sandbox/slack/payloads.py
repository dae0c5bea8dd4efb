"""The requests Slack sends to an app, built as Slack builds them; slash commands and clicks.

Slash commands are form fields; interactions are one form field `payload` holding JSON
(over Socket Mode the same fields, and the same payload, travel as JSON in an envelope).
The workspace is not on Enterprise Grid, so `enterprise_id`/`enterprise_name` are left out of
slash commands (Slack sends them only on Grid) and interactions carry `"enterprise": null`.
Pure functions: no state, no HTTP.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from sandbox.slack.models import APP_ID, TEAM_DOMAIN, TEAM_ID, VERIFICATION_TOKEN, SlackUser

Json = dict[str, Any]


def slash_command_body(
    user: SlackUser,
    channel_id: str,
    channel_name: str,
    command: str,
    text: str,
    response_url: str,
    trigger_id: str,
) -> str:
    return urlencode(slash_command_fields(
        user, channel_id, channel_name, command, text, response_url, trigger_id))


def slash_command_fields(
    user: SlackUser,
    channel_id: str,
    channel_name: str,
    command: str,
    text: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, str]:
    """The form fields of a slash command; Socket Mode sends them as one JSON object."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user.id,
        "user_name": user.name,
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def _user(user: SlackUser) -> Json:
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": TEAM_ID}


def _team() -> Json:
    return {"id": TEAM_ID, "domain": TEAM_DOMAIN}


def interaction_body(payload: Json) -> str:
    return urlencode({"payload": json.dumps(payload)})


def block_actions_payload(
    user: SlackUser,
    trigger_id: str,
    actions: list[Json],
    state_values: Json,
    *,
    channel: tuple[str, str] | None = None,
    message: Json | None = None,
    message_ts: str | None = None,
    is_ephemeral: bool = False,
    response_url: str | None = None,
    view: Json | None = None,
) -> Json:
    """A click on a message (channel + message_ts) or in a view (view given)."""
    payload: Json = {
        "type": "block_actions",
        "user": _user(user),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id,
        "team": _team(),
        "enterprise": None,
        "is_enterprise_install": False,
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view["id"]}
        payload["view"] = view
    else:
        assert channel is not None and message_ts is not None
        payload["container"] = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel[0],
            "is_ephemeral": is_ephemeral,
        }
        payload["channel"] = {"id": channel[0], "name": channel[1]}
        if message is not None and not is_ephemeral:
            payload["message"] = message
        payload["response_url"] = response_url
    payload["state"] = {"values": state_values}
    payload["actions"] = actions
    return payload


def view_submission_payload(user: SlackUser, trigger_id: str, view: Json) -> Json:
    return {
        "type": "view_submission",
        "team": _team(),
        "user": _user(user),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id,
        "view": view,
        "response_urls": [],
        "enterprise": None,
        "is_enterprise_install": False,
    }


def view_closed_payload(user: SlackUser, view: Json, is_cleared: bool) -> Json:
    return {
        "type": "view_closed",
        "team": _team(),
        "user": _user(user),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "view": view,
        "is_cleared": is_cleared,
        "enterprise": None,
        "is_enterprise_install": False,
    }


def event_callback(event: Json) -> Json:
    """An Events API delivery (JSON body), as Slack sends it to the request URL."""
    import uuid

    return {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(float(event.get("event_ts", "0") or 0)),
        "authorizations": [{"team_id": TEAM_ID, "user_id": event.get("user"), "is_bot": False}],
    }
