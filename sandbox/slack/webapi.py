"""The Slack Web API methods the bot calls, answered from the workspace in Slack's shapes.

Each method takes the merged request parameters (query string, form or JSON body) and returns
Slack's JSON, or raises SlackError (HTTP 200 ok:false, or 429 for rate limits). It checks the
bot token; it must not know about sockets, and it never lets a bad argument crash it.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Callable
from typing import Any

from sandbox.slack.blocks import validate_blocks, validate_view
from sandbox.slack.models import BOT_ID, TEAM_DOMAIN, TEAM_ID, TEAM_NAME, SlackError
from sandbox.slack.ratelimit import RateLimiter
from sandbox.slack.workspace import Json, Workspace

MESSAGE_TEXT_MAX = 40_000
HISTORY_LIMIT_MAX = 999

Params = dict[str, Any]
# The scope each method needs of a bot token (Slack's method pages); methods not listed need none.
METHOD_SCOPES = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.delete": "chat:write",
    "usergroups.users.list": "usergroups:read",
    "users.info": "users:read",
    "conversations.info": "channels:read",
    "conversations.history": "channels:history",
    "conversations.replies": "channels:history",
}


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes")


def _attachments(value: Any) -> list[Json]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise SlackError("invalid_attachments") from exc
    if not isinstance(value, list) or not all(isinstance(a, dict) for a in value):
        raise SlackError("invalid_attachments")
    if len(value) > 100:
        raise SlackError("too_many_attachments")
    return value


def _ts_key(ts: Any, error: str = "invalid_arguments") -> int:
    try:
        seconds, _, micros = str(ts).partition(".")
        return int(seconds) * 1_000_000 + int((micros or "0").ljust(6, "0")[:6])
    except ValueError as exc:
        raise SlackError(error) from exc


def _required(params: Params, name: str) -> Any:
    value = params.get(name)
    if value in (None, ""):
        raise SlackError(
            "invalid_arguments",
            extra={"response_metadata": {"messages": [f"[ERROR] missing required field: {name}"]}},
        )
    return value


def _page(items: list[Json], params: Params, default_limit: int) -> tuple[list[Json], str]:
    """Cursor pagination as Slack does it: an opaque next_cursor, empty on the last page."""
    try:
        limit = int(params.get("limit") or default_limit)
    except (TypeError, ValueError) as exc:
        raise SlackError("invalid_limit") from exc
    limit = max(1, min(limit, HISTORY_LIMIT_MAX))
    offset = 0
    cursor = params.get("cursor")
    if cursor:
        try:
            decoded = base64.b64decode(str(cursor), validate=True).decode()
            prefix, _, number = decoded.partition(":")
            if prefix != "next_offset":
                raise ValueError(decoded)
            offset = int(number)
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise SlackError("invalid_cursor") from exc
    page = items[offset : offset + limit]
    has_more = offset + limit < len(items)
    next_cursor = (
        base64.b64encode(f"next_offset:{offset + limit}".encode()).decode() if has_more else ""
    )
    return page, next_cursor


class WebApi:
    def __init__(self, workspace: Workspace, bot_token: str, limiter: RateLimiter) -> None:
        self._ws = workspace
        self._token = bot_token
        self._limiter = limiter
        # The scopes the app was installed with: every answer says them (x-oauth-scopes), and
        # a method whose scope is missing answers missing_scope with `needed`. None: no check.
        self.scopes: frozenset[str] | None = None
        # Methods that answer as Slack does in an outage (HTTP 503 service_unavailable), until
        # taken out again: what a bot's retries and its log do meanwhile can be seen.
        self.failing: frozenset[str] = frozenset()
        self.methods: dict[str, Callable[[Params], Json]] = {
            "auth.test": self.auth_test,
            "chat.postMessage": self.chat_post_message,
            "chat.update": self.chat_update,
            "chat.postEphemeral": self.chat_post_ephemeral,
            "chat.delete": self.chat_delete,
            "chat.getPermalink": self.chat_get_permalink,
            "views.open": self.views_open,
            "views.push": self.views_push,
            "views.update": self.views_update,
            "views.publish": self.views_publish,
            "usergroups.users.list": self.usergroups_users_list,
            "users.info": self.users_info,
            "conversations.info": self.conversations_info,
            "conversations.history": self.conversations_history,
            "conversations.replies": self.conversations_replies,
        }

    def call(self, method: str, params: Params, authorization: str | None) -> Json:
        handler = self.methods.get(method)
        if handler is None:
            raise SlackError("unknown_method")
        if method in self.failing:
            raise SlackError("service_unavailable", status=503)
        token = None
        if authorization and authorization.startswith("Bearer "):
            token = authorization[len("Bearer ") :].strip()
        token = token or params.pop("token", None)
        if not token:
            raise SlackError("not_authed")
        if not hmac.compare_digest(str(token).encode(), self._token.encode()):
            raise SlackError("invalid_auth")
        needed = METHOD_SCOPES.get(method)
        scopes = self.scopes
        if scopes is not None and needed is not None and needed not in scopes:
            raise SlackError("missing_scope", headers=self.scope_headers(),
                             extra={"needed": needed, "provided": ",".join(sorted(scopes))})
        self._limiter.check(method)  # the method's tier, workspace-wide
        return handler(params)

    def scope_headers(self) -> dict[str, str]:
        scopes = self.scopes
        return {} if scopes is None else {"x-oauth-scopes": ",".join(sorted(scopes))}

    # ------------------------------------------------------------------ helpers

    def _channel_id(self, value: Any) -> str:
        """Accepts an id, or a name with or without '#', as chat methods do; a user id is the
        bot's direct conversation with that user (opened on first use)."""
        text = str(value or "").strip()
        if text in self._ws.channels:
            return text
        if text in self._ws.users:
            return self._ws.open_im(text)
        name = text.removeprefix("#")
        for channel_id, state in self._ws.channels.items():
            if state.info.name == name:
                return channel_id
        raise SlackError("channel_not_found")

    @staticmethod
    def _content(
        params: Params, require: bool = True
    ) -> tuple[str | None, list[Json] | None, list[Json] | None]:
        text = params.get("text")
        blocks = params.get("blocks")
        attachments = params.get("attachments")
        parsed_blocks = None if blocks in (None, "") else validate_blocks(blocks)
        parsed_attachments = None
        if attachments not in (None, ""):
            parsed_attachments = _attachments(attachments)
        if require and not text and not parsed_blocks and not parsed_attachments:
            raise SlackError("no_text")
        if text is not None:
            text = str(text)
            if len(text) > MESSAGE_TEXT_MAX:
                raise SlackError("msg_too_long")
        return text, parsed_blocks, parsed_attachments

    # ------------------------------------------------------------------ methods

    def auth_test(self, params: Params) -> Json:
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": TEAM_NAME,
            "user": self._ws.bot_name,
            "team_id": TEAM_ID,
            "user_id": self._ws.bot_user_id,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def chat_post_message(self, params: Params) -> Json:
        with self._ws.lock:
            channel_id = self._channel_id(params.get("channel"))
            self._ws.bot_channel(channel_id)
            self._limiter.check("chat.postMessage", channel_id)
            text, blocks, attachments = self._content(params)
            extra: Json = {}
            if attachments is not None:
                extra["attachments"] = attachments
            if params.get("metadata"):
                extra["metadata"] = params["metadata"]
            message = self._ws.post_message(
                channel_id,
                self._ws.bot_user_id,
                text or "",
                blocks,
                thread_ts=params.get("thread_ts") or None,
                reply_broadcast=_flag(params.get("reply_broadcast", False)),
                extra=extra,
            )
        return {"ok": True, "channel": channel_id, "ts": message["ts"], "message": message}

    def chat_get_permalink(self, params: Params) -> Json:
        """As Slack: a link to one message (`message_ts`) of a channel the bot can read."""
        with self._ws.lock:
            channel_id = self._channel_id(params.get("channel"))
            self._ws.bot_channel(channel_id)
            ts = params.get("message_ts")
            if not ts:
                raise SlackError("message_not_found")
            self._ws.message(channel_id, ts)
        permalink = f"https://sandbox.slack.test/archives/{channel_id}/p{str(ts).replace('.', '')}"
        return {"ok": True, "channel": channel_id, "permalink": permalink}

    def chat_update(self, params: Params) -> Json:
        with self._ws.lock:
            channel_id = self._channel_id(params.get("channel"))
            self._ws.bot_channel(channel_id)
            self._limiter.check("chat.update", channel_id)
            ts = params.get("ts")
            if not ts:
                raise SlackError("message_not_found")
            self._ws.message(channel_id, ts)
            text, blocks, attachments = self._content(params)
            message = self._ws.update_message(channel_id, str(ts), text, blocks, attachments)
        return {
            "ok": True,
            "channel": channel_id,
            "ts": message["ts"],
            "text": message.get("text", ""),
            "message": message,
        }

    def chat_post_ephemeral(self, params: Params) -> Json:
        with self._ws.lock:
            channel_id = self._channel_id(params.get("channel"))
            channel = self._ws.bot_channel(channel_id)
            self._limiter.check("chat.postEphemeral", channel_id)
            user = self._ws.user(params.get("user"))
            if user.id not in channel.members:
                raise SlackError("user_not_in_channel")
            text, blocks, _ = self._content(params)
            message = self._ws.post_ephemeral(
                channel_id, user.id, text or "", blocks, params.get("thread_ts") or None
            )
        return {"ok": True, "message_ts": message["ts"]}

    def chat_delete(self, params: Params) -> Json:
        with self._ws.lock:
            channel_id = self._channel_id(params.get("channel"))
            self._ws.bot_channel(channel_id)
            ts = params.get("ts")
            if not ts:
                raise SlackError("message_not_found")
            self._ws.delete_message(channel_id, str(ts))
        return {"ok": True, "channel": channel_id, "ts": str(ts)}

    def views_open(self, params: Params) -> Json:
        view = validate_view(_required(params, "view"))
        if view["type"] != "modal":
            raise SlackError("invalid_arguments", extra={"detail": "views.open opens modals"})
        user_id = self._ws.consume_trigger(params.get("trigger_id"))
        return {"ok": True, "view": self._ws.open_view(user_id, view)}

    def views_push(self, params: Params) -> Json:
        view = validate_view(_required(params, "view"))
        user_id = self._ws.consume_trigger(params.get("trigger_id"))
        return {"ok": True, "view": self._ws.push_view(user_id, view)}

    def views_update(self, params: Params) -> Json:
        view = validate_view(_required(params, "view"))
        if not params.get("view_id") and not params.get("external_id"):
            raise SlackError("not_found")
        updated = self._ws.update_view(
            view, params.get("view_id"), params.get("external_id"), params.get("hash")
        )
        return {"ok": True, "view": updated}

    def views_publish(self, params: Params) -> Json:
        user_id = _required(params, "user_id")
        view = validate_view(_required(params, "view"))
        return {"ok": True, "view": self._ws.publish_home(str(user_id), view, params.get("hash"))}

    def usergroups_users_list(self, params: Params) -> Json:
        group = self._ws.usergroup(_required(params, "usergroup"))
        return {"ok": True, "users": list(group.users)}

    def users_info(self, params: Params) -> Json:
        return {"ok": True, "user": self._ws.user(params.get("user")).to_api()}

    def conversations_info(self, params: Params) -> Json:
        with self._ws.lock:
            channel = self._ws.channel(params.get("channel"))
            if channel.info.is_private and not channel.bot_is_member:
                raise SlackError("channel_not_found")
            info = channel.info
            body: Json = {
                "id": info.id,
                "name": info.name,
                "name_normalized": info.name,
                "is_channel": not info.is_private,
                "is_group": info.is_private and not info.is_im,
                "is_im": info.is_im,
                "is_mpim": False,
                "is_private": info.is_private,
                "is_archived": False,
                "is_general": False,
                "is_shared": False,
                "is_org_shared": False,
                "is_ext_shared": False,
                "is_member": channel.bot_is_member,
                "created": channel.created,
                "creator": next(iter(sorted(channel.members)), ""),
                "context_team_id": TEAM_ID,
                "topic": {"value": info.topic, "creator": "", "last_set": 0},
                "purpose": {"value": info.purpose, "creator": "", "last_set": 0},
            }
            if _flag(params.get("include_num_members", False)):
                body["num_members"] = len(channel.members) + int(channel.bot_is_member)
        return {"ok": True, "channel": body}

    def conversations_history(self, params: Params) -> Json:
        channel_id = str(params.get("channel") or "")
        with self._ws.lock:
            self._ws.bot_channel(channel_id)
            messages = self._ws.history(channel_id)
        inclusive = _flag(params.get("inclusive", False))
        if params.get("oldest"):
            oldest = _ts_key(params["oldest"], "invalid_ts_oldest")
            messages = [
                m
                for m in messages
                if _ts_key(m["ts"]) > oldest or (inclusive and _ts_key(m["ts"]) == oldest)
            ]
        if params.get("latest"):
            latest = _ts_key(params["latest"], "invalid_ts_latest")
            messages = [
                m
                for m in messages
                if _ts_key(m["ts"]) < latest or (inclusive and _ts_key(m["ts"]) == latest)
            ]
        page, cursor = _page(messages, params, 100)
        return {
            "ok": True,
            "messages": page,
            "has_more": bool(cursor),
            "pin_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }

    def conversations_replies(self, params: Params) -> Json:
        channel_id = str(params.get("channel") or "")
        with self._ws.lock:
            self._ws.bot_channel(channel_id)
            ts = _required(params, "ts")
            messages = self._ws.thread(channel_id, ts)
        page, cursor = _page(messages, params, 1000)
        return {
            "ok": True,
            "messages": page,
            "has_more": bool(cursor),
            "response_metadata": {"next_cursor": cursor},
        }
