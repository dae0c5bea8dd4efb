"""The emulator acting as Slack towards the app: slash commands, clicks, modal submissions.

It builds each payload, delivers it (signed over HTTP, or in an envelope over the app's
Socket Mode connection while one is open), and applies the app's ack the way Slack does (a
command's ack becomes an ephemeral or channel message; a view_submission's ack closes,
updates, pushes, clears or shows errors). It also serves the response_url endpoints.
It must not hold state of its own: everything goes through the Workspace.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from sandbox.slack import payloads
from sandbox.slack.blocks import (
    action_payload,
    find_action,
    missing_required,
    state_values,
    validate_blocks,
    validate_view,
)
from sandbox.slack.delivery import Delivery, deliver
from sandbox.slack.models import SLACKBOT_USER_ID, SlackError
from sandbox.slack.socketmode import EnvelopeType, SocketModeServer
from sandbox.slack.workspace import Json, Workspace


def _decode_json(value: Any, name: str) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise SlackError("invalid_arguments", extra={"detail": f"{name} is not JSON"}) from exc
    return value


def _attachments(message: Json) -> list[Json] | None:
    found = message.get("attachments")
    if isinstance(found, list) and all(isinstance(item, dict) for item in found):
        return found
    return None


def _parse_ack(delivery: Delivery) -> Json | str | None:
    body = delivery.body.strip()
    if not delivery.ok or not body:
        return None
    if body.startswith("{"):
        try:
            parsed = json.loads(body)
        except ValueError:
            return body
        return parsed if isinstance(parsed, dict) else body
    return body


class Interactions:
    def __init__(
        self,
        workspace: Workspace,
        signing_secret: str,
        request_url: Callable[[], str | None],
        base_url: Callable[[], str],
        ack_timeout: float,
        known_commands: frozenset[str] | None = None,
        socket_mode: SocketModeServer | None = None,
    ) -> None:
        self.known_commands = known_commands  # None: every command goes to the app
        self._ws = workspace
        self._secret = signing_secret
        self._request_url = request_url
        self._base_url = base_url
        self.ack_timeout = ack_timeout
        self._socket_mode = socket_mode

    def _send(self, kind: EnvelopeType, payload: Json, body: str,
              content_type: str = "application/x-www-form-urlencoded") -> Delivery:
        """Over the app's websocket while one is open (as Slack does for a Socket Mode app),
        else signed over HTTP to the request URL; the answer has the same shape either way."""
        sockets = self._socket_mode
        if sockets is not None and sockets.connection_count > 0:
            accepts = kind == "slash_commands" or payload.get("type") == "view_submission"
            return sockets.deliver(kind, payload, self.ack_timeout,
                                   accepts_response_payload=accepts)
        return deliver(self._request_url(), self._secret, body, self.ack_timeout, content_type)

    def _response_url(self, user_id: str, channel_id: str, ts: str | None, ephemeral: bool) -> str:
        url_id = self._ws.issue_response_url(user_id, channel_id, ts, ephemeral)
        return f"{self._base_url()}/response/{url_id}"

    # ------------------------------------------------------------ slash command

    def command(self, user_id: Any, channel_id: Any, text: Any) -> Json:
        """`text` is what the user typed, starting with the command: "/promote staging"."""
        raw = str(text or "").strip()
        if not raw.startswith("/") or len(raw) < 2:
            raise SlackError("invalid_arguments", extra={"detail": "text must start with /command"})
        command, _, rest = raw.partition(" ")
        with self._ws.lock:
            user = self._ws.user(user_id)
            channel = self._ws.channel(channel_id)
            if user.id not in channel.members:
                raise SlackError("user_not_in_channel")
            if self.known_commands is not None and command not in self.known_commands:
                # Slack itself answers a command no installed app declares; the app never hears.
                self._ws.post_ephemeral(
                    channel.info.id, user.id,
                    f"{command} is not a valid command. In Slack, all messages that start with "
                    f'the "/" character are interpreted as commands.',
                    None, author=SLACKBOT_USER_ID,
                )
                return {"ok": True, "status": None, "body": "", "headers": {},
                        "error": "unknown_command", "ack": None, "trigger_id": None,
                        "response_url": None, "posted": None, "ack_error": None}
            trigger_id = self._ws.issue_trigger(user.id)
            url_id = self._ws.issue_response_url(user.id, channel.info.id, None, False)
        response_url = f"{self._base_url()}/response/{url_id}"
        fields = payloads.slash_command_fields(
            user,
            channel.info.id,
            channel.info.name,
            command,
            rest.strip(),
            response_url,
            trigger_id,
        )
        delivery = self._send("slash_commands", fields, urlencode(fields))
        ack = _parse_ack(delivery)
        posted: Json | None = None
        ack_error: str | None = None
        if delivery.ok and ack is not None:
            message = {"text": ack} if isinstance(ack, str) else ack
            try:
                posted = self._respond(url_id, message, count_use=False)
            except SlackError as exc:  # e.g. JSON without text or blocks: nothing is shown
                ack_error = exc.code
        elif not delivery.ok:
            error = delivery.error or "dispatch_failed"
            self._ws.post_ephemeral(
                channel.info.id,
                user.id,
                f'{command} failed with the error "{error}"',
                None,
                author=SLACKBOT_USER_ID,
            )
        return {
            "ok": True,
            **delivery.to_json(),
            "ack": ack,
            "trigger_id": trigger_id,
            "response_url": response_url,
            "posted": posted,
            "ack_error": ack_error,
        }

    # ------------------------------------------------------------------- events

    def app_home_opened(self, user_id: Any) -> Json:
        """The user opens the app's Home tab: Slack sends an Events API callback (JSON)."""
        with self._ws.lock:
            user = self._ws.user(user_id)
        callback = payloads.event_callback(
            {"type": "app_home_opened", "user": user.id, "channel": f"D{user.id[1:]}",
             "tab": "home", "event_ts": f"{time.time():.6f}"})
        delivery = self._send("events_api", callback, json.dumps(callback), "application/json")
        return {"ok": True, **delivery.to_json()}

    # ------------------------------------------------------------------- clicks

    def click(
        self,
        user_id: Any,
        action_id: Any,
        *,
        channel_id: Any = None,
        message_ts: Any = None,
        view_id: Any = None,
        value: Any = None,
        block_id: Any = None,
        values: Any = None,
    ) -> Json:
        """A click on a button (or a choice in a select) of a message or of an open view."""
        if not action_id:
            raise SlackError("invalid_arguments", extra={"detail": "action_id is required"})
        given_values = _decode_json(values, "values") or {}
        with self._ws.lock:
            user = self._ws.user(user_id)
            if view_id:
                view = self._ws.find_view(view_id)
                if self._ws.view_owner.get(str(view_id)) != user.id:
                    raise SlackError("not_found")
                found = find_action(view["blocks"], str(action_id), block_id, value)
                if found is None:
                    raise SlackError("action_not_found")
                merged = self._merge_state(view, given_values)
                self._ws.set_view_state(view["id"], merged)
                view = self._ws.find_view(view_id)
                trigger_id = self._ws.issue_trigger(user.id)
                action = action_payload(*found, value, self._ws.ts.next())
                payload = payloads.block_actions_payload(
                    user, trigger_id, [action], merged, view=json.loads(json.dumps(view))
                )
                response_url = None
            else:
                channel = self._ws.channel(channel_id)
                if user.id not in channel.members:
                    raise SlackError("user_not_in_channel")
                ts = str(message_ts or "")
                message = channel.messages.get(ts)
                ephemeral = False
                if message is None:
                    message = self._ws.ephemeral(user.id, ts)
                    if message is None or message["channel"] != channel.info.id:
                        raise SlackError("message_not_found")
                    ephemeral = True
                found = find_action(message.get("blocks") or [], str(action_id), block_id, value)
                if found is None:
                    raise SlackError("action_not_found")
                state = state_values(message.get("blocks") or [], given_values)
                trigger_id = self._ws.issue_trigger(user.id)
                response_url = self._response_url(user.id, channel.info.id, ts, ephemeral)
                action = action_payload(*found, value, self._ws.ts.next())
                payload = payloads.block_actions_payload(
                    user,
                    trigger_id,
                    [action],
                    state,
                    channel=(channel.info.id, channel.info.name),
                    message=json.loads(json.dumps(message)),
                    message_ts=ts,
                    is_ephemeral=ephemeral,
                    response_url=response_url,
                )
        delivery = self._send("interactive", payload, payloads.interaction_body(payload))
        return {
            "ok": True,
            **delivery.to_json(),
            "trigger_id": trigger_id,
            "response_url": response_url,
            "payload": payload,
        }

    def _merge_state(self, view: Json, given: Json) -> Json:
        current: Json = json.loads(json.dumps(view["state"]["values"]))
        fresh = state_values(view["blocks"], given)
        for block_id, actions in given.items():
            for action_id in actions:
                current.setdefault(block_id, {})[action_id] = fresh[block_id][action_id]
        for block_id, actions in fresh.items():
            for action_id, entry in actions.items():
                current.setdefault(block_id, {}).setdefault(action_id, entry)
        return current

    # -------------------------------------------------------------- submissions

    def submit(self, user_id: Any, view_id: Any, values: Any) -> Json:
        """Submits the user's top modal with values {block_id: {action_id: value}}."""
        given = _decode_json(values, "values") or {}
        if not isinstance(given, dict):
            raise SlackError("invalid_arguments", extra={"detail": "values must be an object"})
        with self._ws.lock:
            user = self._ws.user(user_id)
            if not view_id or self._ws.top_modal(user.id) != str(view_id):
                raise SlackError("not_found")
            view = self._ws.find_view(view_id)
            if not isinstance(view.get("submit"), dict):
                raise SlackError("invalid_arguments", extra={"detail": "the view has no submit"})
            merged = self._merge_state(view, given)
            missing = missing_required(view["blocks"], merged)
            if missing:
                # Slack's client refuses to submit: nothing reaches the app.
                return {"ok": False, "error": "required_fields_missing", "block_ids": missing}
            self._ws.set_view_state(view["id"], merged)
            view = json.loads(json.dumps(self._ws.find_view(view_id)))
            trigger_id = self._ws.issue_trigger(user.id)
        payload = payloads.view_submission_payload(user, trigger_id, view)
        delivery = self._send("interactive", payload, payloads.interaction_body(payload))
        outcome = self._apply_submission_ack(user.id, delivery)
        return {
            "ok": True,
            **delivery.to_json(),
            **outcome,
            "trigger_id": trigger_id,
            "payload": payload,
            "views": self._ws.open_views(user.id),
        }

    def _apply_submission_ack(self, user_id: str, delivery: Delivery) -> Json:
        if not delivery.ok:
            return {"ack": None, "response_action": None, "view_error": "the app did not accept"}
        ack = _parse_ack(delivery)
        if ack is None:
            self._ws.close_top(user_id)
            return {"ack": None, "response_action": "close"}
        if not isinstance(ack, dict):
            return {"ack": ack, "response_action": None, "view_error": "ack is not JSON"}
        action = ack.get("response_action")
        try:
            if action == "errors" and isinstance(ack.get("errors"), dict):
                return {"ack": ack, "response_action": "errors", "errors": ack["errors"]}
            if action == "update":
                top = self._ws.top_modal(user_id)
                self._ws.update_view(validate_view(ack.get("view")), view_id=top)
                return {"ack": ack, "response_action": "update"}
            if action == "push":
                self._ws.push_view(user_id, validate_view(ack.get("view")))
                return {"ack": ack, "response_action": "push"}
            if action == "clear":
                self._ws.clear_modals(user_id)
                return {"ack": ack, "response_action": "clear"}
        except SlackError as exc:
            return {"ack": ack, "response_action": action, "view_error": exc.code}
        if action is None:
            self._ws.close_top(user_id)
            return {"ack": ack, "response_action": "close"}
        return {"ack": ack, "response_action": action, "view_error": "invalid response_action"}

    def close(self, user_id: Any, view_id: Any) -> Json:
        """The user closes their top modal; the app hears of it if notify_on_close is set."""
        with self._ws.lock:
            user = self._ws.user(user_id)
            if not view_id or self._ws.top_modal(user.id) != str(view_id):
                raise SlackError("not_found")
            view = json.loads(json.dumps(self._ws.find_view(view_id)))
            self._ws.close_top(user.id)
        if not view.get("notify_on_close"):
            return {"ok": True, "status": None, "notified": False}
        payload = payloads.view_closed_payload(user, view, is_cleared=False)
        delivery = self._send("interactive", payload, payloads.interaction_body(payload))
        return {"ok": True, **delivery.to_json(), "notified": True}

    # ------------------------------------------------------------- response_url

    def response_url_post(self, url_id: str, raw: bytes) -> Json:
        """A POST to {url}/response/<id>: 5 uses, replace/delete original, response_type."""
        try:
            message = json.loads(raw.decode("utf-8") or "null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise SlackError("invalid_payload", status=400) from exc
        if not isinstance(message, dict):
            raise SlackError("invalid_payload", status=400)
        self._respond(url_id, message, count_use=True)
        return {"ok": True}

    def _respond(self, url_id: str, message: Json, count_use: bool) -> Json | None:
        with self._ws.lock:
            if count_use:
                target = self._ws.use_response_url(url_id)
            else:
                target = self._ws.response_urls[url_id]
            original = target.original_ts
            if message.get("delete_original"):
                if original is None:
                    raise SlackError("message_not_found", status=404)
                if target.original_ephemeral:
                    self._ws.delete_ephemeral(target.user, original)
                else:
                    self._ws.delete_message(target.channel, original)
                return None
            text = message.get("text")
            try:
                blocks = (
                    None if message.get("blocks") is None else validate_blocks(message["blocks"])
                )
            except SlackError as exc:
                raise SlackError("invalid_blocks", status=400) from exc
            if not text and not blocks and not message.get("attachments"):
                raise SlackError("no_text", status=400)
            text = str(text or "")
            if message.get("replace_original") and original is not None:
                if target.original_ephemeral:
                    return self._ws.replace_ephemeral(target.user, original, text, blocks)
                return self._ws.update_message(
                    target.channel, original, text, blocks, _attachments(message),
                    replace_all=True,
                )  # fmt: skip
            thread_ts = message.get("thread_ts") or None
            if message.get("response_type") == "in_channel":
                posted = self._ws.post_message(
                    target.channel, self._ws.bot_user_id, text, blocks, thread_ts=thread_ts
                )
                ephemeral = False
            else:
                posted = self._ws.post_ephemeral(
                    target.channel, target.user, text, blocks, thread_ts=thread_ts
                )
                ephemeral = True
            if original is None:
                target.original_ts = posted["ts"]
                target.original_ephemeral = ephemeral
            return posted
