"""The shape a verified Slack body must have before Bolt and our listeners see it.

A signed body is Slack's, but a leaked secret or a Slack change can still bring fields of
another type, and Bolt's matchers and our middleware index into them (`body["actions"][0]`,
`"type" in body["event"]`, `body["user"]["id"]`): a field of the wrong type was a 500. Each
field Bolt or a listener reads must have the type Slack sends (the slash command
form, block_actions, view_submission, the Events API), or the request is refused here as a
400. It checks types only, never values: what a value means is the listeners' and the core's.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

_STR: dict[str, Any] = {"type": "string"}
_OBJECT: dict[str, Any] = {"type": "object"}
# state.values: {block_id: {action_id: {type, value | selected_option | ...}}}
_VALUES: dict[str, Any] = {"type": "object", "additionalProperties": {
    "type": "object", "additionalProperties": {"type": "object", "properties": {
        "type": _STR, "value": {"type": ["string", "null"]}}}}}
_STATE: dict[str, Any] = {"type": "object", "properties": {"values": _VALUES}}
_VIEW: dict[str, Any] = {
    "type": "object",
    "required": ["type"],  # Bolt reads view["type"] of every view_submission
    "properties": {
        "id": _STR, "type": _STR, "callback_id": _STR, "private_metadata": _STR, "hash": _STR,
        "team_id": _STR, "state": _STATE, "blocks": {"type": "array", "items": _OBJECT},
        "root_view_id": {"type": ["string", "null"]},
        "previous_view_id": {"type": ["string", "null"]},
    },
}
_ACTION: dict[str, Any] = {"type": "object", "properties": {
    "type": _STR, "action_id": _STR, "block_id": _STR, "value": _STR, "action_ts": _STR}}
_EVENT: dict[str, Any] = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": _STR, "tab": _STR, "event_ts": _STR, "ts": _STR, "subtype": _STR,
        "user": {"type": ["string", "object"]}, "channel": {"type": ["string", "object"]},
        "bot_id": _STR, "view": _VIEW,
    },
    # App Home: the viewer is a user id (handlers/home.py stores it)
    "if": {"properties": {"type": {"const": "app_home_opened"}}},
    "then": {"required": ["user"], "properties": {"user": _STR}},
}
_NULLABLE_OBJECT: dict[str, Any] = {"type": ["object", "null"]}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        **{key: _STR for key in (
            "type", "token", "api_app_id", "trigger_id", "response_url", "callback_id",
            "event_id", "team_id", "team_domain", "user_id", "user_name", "channel_id",
            "channel_name", "command", "text", "enterprise_id", "enterprise_name",
            "challenge", "action_ts", "message_ts")},
        "is_enterprise_install": {"type": ["string", "boolean"]},
        "user": {"type": "object", "properties": {"id": _STR, "team_id": _STR}},
        "team": {"type": ["object", "null"], "properties": {"id": _STR, "domain": _STR}},
        "enterprise": {"type": ["object", "null"], "properties": {"id": _STR}},
        "channel": {"type": "object", "properties": {"id": _STR, "name": _STR}},
        "container": {"type": "object", "properties": {
            "type": _STR, "message_ts": _STR, "channel_id": _STR, "view_id": _STR,
            "is_ephemeral": {"type": "boolean"}, "thread_ts": _STR}},
        "message": {"type": "object", "properties": {
            "ts": _STR, "text": _STR, "thread_ts": _STR, "user": _STR, "bot_id": _STR,
            "blocks": {"type": "array", "items": _OBJECT}}},
        "state": _STATE,
        "view": _VIEW,
        # Bolt reads body["actions"][0] of every block_actions payload
        "actions": {"type": "array", "minItems": 1, "items": _ACTION},
        "event": _EVENT,
        "authorizations": {"type": "array", "items": _NULLABLE_OBJECT},
        "response_urls": {"type": "array", "items": {
            "type": "object", "properties": {"response_url": _STR}}},
    },
}
_VALIDATOR = Draft202012Validator(SCHEMA)
# The top-level fields a string may not fill. A slash command's form is string values only:
# when it names none of these it has the shape, without the validator's walk (5% of the bot's
# interpreter time in a burst of slash commands).
_NOT_STRINGS = frozenset(
    key for key, rule in SCHEMA["properties"].items()
    if "string" not in (rule["type"] if isinstance(rule["type"], list) else [rule["type"]]))


def problem(body: object) -> str | None:
    """None when `body` has the shape Slack sends, else the first field that does not (its
    path and the type it has, never its value: a log line must not carry what was sent)."""
    if (isinstance(body, dict) and _NOT_STRINGS.isdisjoint(body)
            and all(isinstance(value, str) for value in body.values())):
        return None
    error = next(iter(_VALIDATOR.iter_errors(body)), None)
    if error is None:
        return None
    where = error.json_path
    if error.validator == "required":
        return f"{where} lacks a field Slack always sends"
    if error.validator == "minItems":
        return f"{where} is empty"
    return f"{where} is a {_kind(error.instance)}, not a {error.validator_value}"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(value), type(value).__name__)
