"""Block Kit as the Slack emulator needs it: validation, block and action ids, form state.

Slack rejects malformed blocks and views, fills in missing block_id/action_id, and builds
`state.values` from the inputs a user filled in; this module does those three things on plain
dicts. It must not hold state or talk HTTP.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sandbox.slack.models import SlackError

MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
_INTERACTIVE_CONTAINERS = ("actions", "input")

_SINGLE_OPTION = {"static_select", "external_select", "radio_buttons", "overflow"}
_MULTI_OPTION = {"multi_static_select", "multi_external_select", "checkboxes"}
_SELECTED_KEY = {
    "users_select": ("selected_user", False),
    "multi_users_select": ("selected_users", True),
    "conversations_select": ("selected_conversation", False),
    "multi_conversations_select": ("selected_conversations", True),
    "channels_select": ("selected_channel", False),
    "multi_channels_select": ("selected_channels", True),
    "datepicker": ("selected_date", False),
    "timepicker": ("selected_time", False),
    "datetimepicker": ("selected_date_time", False),
}
_INITIAL_KEY = {
    "users_select": "initial_user",
    "multi_users_select": "initial_users",
    "conversations_select": "initial_conversation",
    "multi_conversations_select": "initial_conversations",
    "channels_select": "initial_channel",
    "multi_channels_select": "initial_channels",
    "datepicker": "initial_date",
    "timepicker": "initial_time",
    "datetimepicker": "initial_date_time",
}


def _short_id(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()[:5]


def _decode(value: Any, error: str) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise SlackError(error) from exc
    return value


def validate_blocks(value: Any, max_blocks: int = MESSAGE_BLOCKS_MAX) -> list[dict[str, Any]]:
    """Returns the blocks with generated ids filled in, or raises invalid_blocks."""
    blocks = _decode(value, "invalid_blocks")
    if not isinstance(blocks, list) or len(blocks) > max_blocks:
        raise SlackError("invalid_blocks")
    seen: set[str] = set()
    result: list[dict[str, Any]] = []
    for index, block in enumerate(blocks):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            raise SlackError("invalid_blocks")
        block = json.loads(json.dumps(block))
        block_id = block.get("block_id")
        if block_id is None:
            block_id = _short_id(f"{index}:{json.dumps(block, sort_keys=True)}")
            block["block_id"] = block_id
        if not isinstance(block_id, str) or not block_id or len(block_id) > 255:
            raise SlackError("invalid_blocks")
        if block_id in seen:
            raise SlackError("invalid_blocks")
        seen.add(block_id)
        for position, element in enumerate(interactive_elements(block)):
            if "action_id" not in element:
                element["action_id"] = _short_id(f"{block_id}:{position}")
            if not isinstance(element["action_id"], str) or len(element["action_id"]) > 255:
                raise SlackError("invalid_blocks")
        result.append(block)
    return result


def interactive_elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    """The elements of a block a user can act on (actions elements, accessory, input element)."""
    found: list[dict[str, Any]] = []
    if block.get("type") == "actions" and isinstance(block.get("elements"), list):
        found.extend(e for e in block["elements"] if isinstance(e, dict))
    for key in ("accessory", "element"):
        element = block.get(key)
        if isinstance(element, dict) and element.get("type") not in ("image", None):
            found.append(element)
    return found


def validate_view(value: Any) -> dict[str, Any]:
    """Checks a modal or home view as views.open/update/push/publish do."""
    view = _decode(value, "invalid_arguments")
    if not isinstance(view, dict):
        raise _invalid_arguments("view must be an object")
    view_type = view.get("type")
    if view_type not in ("modal", "home"):
        raise _invalid_arguments("type must be 'modal' or 'home'")
    if "blocks" not in view:
        raise _invalid_arguments("missing required field: blocks")
    view = dict(view)
    view["blocks"] = validate_blocks(view["blocks"], VIEW_BLOCKS_MAX)
    if view_type == "modal":
        title = view.get("title")
        if not isinstance(title, dict) or not 0 < len(str(title.get("text", ""))) <= 24:
            raise _invalid_arguments("title must be a plain_text object of 1-24 characters")
        has_input = any(block.get("type") == "input" for block in view["blocks"])
        if has_input and not isinstance(view.get("submit"), dict):
            raise _invalid_arguments("submit is required when a view has input blocks")
    if len(str(view.get("private_metadata") or "")) > 3000:
        raise _invalid_arguments("private_metadata must be at most 3000 characters")
    if len(str(view.get("callback_id") or "")) > 255:
        raise _invalid_arguments("callback_id must be at most 255 characters")
    return view


def _invalid_arguments(message: str) -> SlackError:
    return SlackError(
        "invalid_arguments", extra={"response_metadata": {"messages": [f"[ERROR] {message}"]}}
    )


def find_action(
    blocks: list[dict[str, Any]],
    action_id: str,
    block_id: str | None = None,
    value: Any = None,
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The (block, element) whose action_id matches, in an actions block or an accessory.

    A button with a `value` must carry that value: it tells apart buttons that share an
    action_id across blocks (Slack allows that; ids are unique only within a block).
    """
    for block in blocks:
        if block_id is not None and block.get("block_id") != block_id:
            continue
        if block.get("type") == "input" and not block.get("dispatch_action"):
            continue
        for element in interactive_elements(block):
            if element.get("action_id") != action_id:
                continue
            if (
                element.get("type") == "button"
                and value is not None
                and element.get("value") != value
            ):
                continue
            return block, element
    return None


def _options(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return [o for o in options if isinstance(o, dict)]


def _option_for(element: dict[str, Any], value: Any) -> dict[str, Any]:
    for option in _options(element):
        if option.get("value") == value:
            return option
    raise SlackError("invalid_arguments", extra={"detail": f"no option with value {value!r}"})


def element_state(element: dict[str, Any], value: Any, given: bool) -> dict[str, Any]:
    """The `state.values` entry Slack sends for one input element (given value or initial)."""
    kind = str(element.get("type"))
    state: dict[str, Any] = {"type": kind}
    if kind in _SINGLE_OPTION:
        if given:
            state["selected_option"] = None if value is None else _option_for(element, value)
        else:
            state["selected_option"] = element.get("initial_option")
    elif kind in _MULTI_OPTION:
        if given:
            values = value if isinstance(value, list) else [value]
            state["selected_options"] = [_option_for(element, v) for v in values]
        else:
            state["selected_options"] = list(element.get("initial_options") or [])
    elif kind in _SELECTED_KEY:
        key, multi = _SELECTED_KEY[kind]
        if given:
            state[key] = (value if isinstance(value, list) else [value]) if multi else value
        else:
            state[key] = element.get(_INITIAL_KEY[kind], [] if multi else None)
    else:
        state["value"] = value if given else element.get("initial_value")
    return state


def is_empty(state: dict[str, Any]) -> bool:
    return all(item in (None, "", []) for key, item in state.items() if key != "type")


def state_values(
    blocks: list[dict[str, Any]], values: dict[str, dict[str, Any]] | None
) -> dict[str, dict[str, dict[str, Any]]]:
    """Builds `state.values` from the view's inputs and the user's values {block: {action: v}}."""
    values = values or {}
    known: dict[str, set[str]] = {}
    result: dict[str, dict[str, dict[str, Any]]] = {}
    for block in blocks:
        if block.get("type") not in _INTERACTIVE_CONTAINERS:
            continue
        block_id = str(block.get("block_id"))
        for element in interactive_elements(block):
            if element.get("type") in ("button", "overflow", "workflow_button"):
                continue
            action_id = str(element.get("action_id"))
            known.setdefault(block_id, set()).add(action_id)
            given_block = values.get(block_id) or {}
            given = action_id in given_block
            result.setdefault(block_id, {})[action_id] = element_state(
                element, given_block.get(action_id), given
            )
    for block_id, actions in values.items():
        if not isinstance(actions, dict) or not set(actions) <= known.get(block_id, set()):
            raise SlackError(
                "invalid_arguments", extra={"detail": f"no input {block_id}/{actions!r} in view"}
            )
    return result


def missing_required(
    blocks: list[dict[str, Any]], values: dict[str, dict[str, dict[str, Any]]]
) -> list[str]:
    """Block ids of required input blocks left empty (Slack's client refuses to submit)."""
    missing = []
    for block in blocks:
        if block.get("type") != "input" or block.get("optional"):
            continue
        block_id = str(block.get("block_id"))
        entries = values.get(block_id, {})
        if not entries or all(is_empty(entry) for entry in entries.values()):
            missing.append(block_id)
    return missing


def action_payload(
    block: dict[str, Any], element: dict[str, Any], value: Any, action_ts: str
) -> dict[str, Any]:
    """One entry of a block_actions payload's `actions` list, as Slack builds it."""
    kind = str(element.get("type"))
    action: dict[str, Any] = {
        "type": kind,
        "action_id": element.get("action_id"),
        "block_id": block.get("block_id"),
        "action_ts": action_ts,
    }
    if kind == "button":
        action["text"] = element.get("text")
        if "value" in element:
            action["value"] = element["value"]
        if "style" in element:
            action["style"] = element["style"]
        return action
    state = element_state(element, value, value is not None)
    state.pop("type")
    action.update(state)
    if kind in ("static_select", "overflow", "external_select") and "placeholder" in element:
        action["placeholder"] = element["placeholder"]
    return action
