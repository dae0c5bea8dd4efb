"""The Slack workspace the emulator serves: channels, messages, threads, ephemerals, views.

All state lives here, in memory, behind one lock, in Slack's own JSON shapes, so the Web API
layer and the "acting as Slack" layer only translate requests. Every message keeps the list of
its versions so tests can read a card's sequence of updates. It must not do HTTP.
"""

from __future__ import annotations

import copy
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.slack.blocks import state_values
from sandbox.slack.models import (
    APP_ID,
    BOT_ID,
    TEAM_ID,
    Counter,
    SlackChannel,
    SlackError,
    SlackUser,
    SlackUserGroup,
    TsClock,
)

TRIGGER_TTL_SECONDS = 3.0  # Slack's: a trigger_id opens a view within 3 s of the click
TRIGGER_TTL_VARIABLE = "SANDBOX_TRIGGER_TTL_SECONDS"


def trigger_ttl() -> float:
    """Slack's 3 s, or what SANDBOX_TRIGGER_TTL_SECONDS says: the test suite sets it high, so a
    test on a starved machine never races a real-time 3 s (the expiry itself is tested on a
    stepped clock)."""
    return float(os.environ.get(TRIGGER_TTL_VARIABLE) or TRIGGER_TTL_SECONDS)


ACK_SECONDS = 3.0  # Slack's: an app answers a command or an interaction within 3 s
ACK_VARIABLE = "SANDBOX_ACK_SECONDS"


def ack_deadline() -> float:
    """Slack's 3 s, or what SANDBOX_ACK_SECONDS says: the test suite sets it high, so a bot on
    a starved machine is not cut off by a real-time 3 s (the timeout itself is tested with an
    emulator given a short one)."""
    return float(os.environ.get(ACK_VARIABLE) or ACK_SECONDS)


RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL_SECONDS = 30 * 60
VIEW_STACK_MAX = 3

Json = dict[str, Any]


@dataclass
class ChannelState:
    info: SlackChannel
    members: set[str]
    bot_is_member: bool
    created: int
    messages: dict[str, Json] = field(default_factory=dict)  # ts -> message, ts order


@dataclass
class Trigger:
    user: str
    issued: float
    used: bool = False


@dataclass
class ResponseUrl:
    """Where a response_url points: the invoking user, the channel, and the 'original'."""

    user: str
    channel: str
    issued: float
    original_ts: str | None = None  # message the interaction came from (or last reply)
    original_ephemeral: bool = False
    uses: int = 0


class Workspace:
    def __init__(
        self,
        users: list[SlackUser],
        channels: list[SlackChannel],
        usergroups: list[SlackUserGroup],
        bot_user_id: str,
        bot_name: str,
        clock: Callable[[], float] = time.monotonic,
        trigger_seconds: float = TRIGGER_TTL_SECONDS,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.trigger_seconds = trigger_seconds
        self.ts = TsClock()
        self.bot_user_id = bot_user_id
        self.bot_name = bot_name
        bot_user = SlackUser(bot_user_id, bot_name, bot_name, is_bot=True)
        self.users: dict[str, SlackUser] = {u.id: u for u in [*users, bot_user]}
        created = int(time.time())
        self.channels: dict[str, ChannelState] = {
            c.id: ChannelState(c, set(c.members), c.bot_is_member, created) for c in channels
        }
        self.usergroups: dict[str, SlackUserGroup] = {g.id: g for g in usergroups}
        self.versions: dict[tuple[str, str], list[Json]] = {}
        self.ephemerals: dict[str, list[Json]] = {}
        self.views: dict[str, Json] = {}
        self.view_owner: dict[str, str] = {}
        self.modal_stacks: dict[str, list[str]] = {}
        self.home_views: dict[str, str] = {}
        self.triggers: dict[str, Trigger] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self._ids = Counter()

    # ----------------------------------------------------------------- lookups

    def user(self, user_id: Any) -> SlackUser:
        found = self.users.get(str(user_id)) if user_id else None
        if found is None:
            raise SlackError("user_not_found")
        return found

    def channel(self, channel_id: Any) -> ChannelState:
        found = self.channels.get(str(channel_id)) if channel_id else None
        if found is None:
            raise SlackError("channel_not_found")
        return found

    def bot_channel(self, channel_id: Any) -> ChannelState:
        """The channel, which the bot must be able to read and write."""
        found = self.channel(channel_id)
        if not found.bot_is_member:
            raise SlackError("not_in_channel")
        return found

    def open_im(self, user_id: Any) -> str:
        """The bot's direct conversation with a user, opened on first use (as Slack does when
        a bot posts with chat.postMessage to a user id): its D... id."""
        with self.lock:
            user = self.user(user_id)
            if user.is_bot:
                raise SlackError("cannot_dm_bot")
            for channel_id, state in self.channels.items():
                if state.info.is_im and state.info.name == user.id:
                    return channel_id
            channel_id = self.next_id("D")
            info = SlackChannel(channel_id, user.id, (user.id,), is_private=True, is_im=True)
            self.channels[channel_id] = ChannelState(info, {user.id}, True, int(time.time()))
            return channel_id

    def ims(self, user_id: str) -> list[Json]:
        """What the bot said to `user_id` directly, oldest first."""
        with self.lock:
            found = [cid for cid, state in self.channels.items()
                     if state.info.is_im and state.info.name == user_id]
            return [m for cid in found for m in reversed(self.history(cid))]

    def usergroup(self, group_id: Any) -> SlackUserGroup:
        found = self.usergroups.get(str(group_id)) if group_id else None
        if found is None:
            raise SlackError("no_such_subteam")
        return found

    def set_bot_membership(self, channel_id: str, member: bool) -> None:
        with self.lock:
            self.channel(channel_id).bot_is_member = member

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{self._ids.next():010d}"

    # ----------------------------------------------------------------- messages

    def _author_fields(self, author: str) -> Json:
        if author == self.bot_user_id:
            return {
                "user": self.bot_user_id,
                "bot_id": BOT_ID,
                "app_id": APP_ID,
                "bot_profile": {
                    "id": BOT_ID,
                    "app_id": APP_ID,
                    "name": self.bot_name,
                    "team_id": TEAM_ID,
                    "deleted": False,
                },
            }
        return {"user": author}

    def _record_version(self, channel_id: str, message: Json) -> None:
        key = (channel_id, str(message["ts"]))
        self.versions.setdefault(key, []).append(copy.deepcopy(message))

    def post_message(
        self,
        channel_id: str,
        author: str,
        text: str,
        blocks: list[Json] | None,
        thread_ts: str | None = None,
        reply_broadcast: bool = False,
        extra: Json | None = None,
    ) -> Json:
        with self.lock:
            channel = self.channel(channel_id)
            parent = None
            if thread_ts:
                parent = channel.messages.get(str(thread_ts))
                if parent is None:
                    raise SlackError("thread_not_found")
                if parent.get("thread_ts") and parent["thread_ts"] != parent["ts"]:
                    parent = channel.messages[parent["thread_ts"]]
            ts = self.ts.next()
            message: Json = {"type": "message", "text": text, "ts": ts, "team": TEAM_ID}
            message.update(self._author_fields(author))
            if blocks is not None:
                message["blocks"] = blocks
            message.update(extra or {})
            if parent is not None:
                message["thread_ts"] = parent["ts"]
                message["parent_user_id"] = parent.get("user")
                if reply_broadcast:
                    message["subtype"] = "thread_broadcast"
                    message["root"] = self._public(parent)
                self._add_reply(channel, parent, message)
            channel.messages[ts] = message
            self._record_version(channel_id, message)
            return self._public(message)

    def _add_reply(self, channel: ChannelState, parent: Json, reply: Json) -> None:
        replies = [m for m in channel.messages.values() if self._is_reply_of(m, parent["ts"])]
        replies.append(reply)
        self._refresh_thread(parent, replies)

    @staticmethod
    def _is_reply_of(message: Json, parent_ts: str) -> bool:
        return message.get("thread_ts") == parent_ts and message["ts"] != parent_ts

    @staticmethod
    def _refresh_thread(parent: Json, replies: list[Json]) -> None:
        if not replies:
            for key in ("thread_ts", "reply_count", "reply_users_count", "latest_reply"):
                parent.pop(key, None)
            parent.pop("reply_users", None)
            return
        users = list(dict.fromkeys(str(r.get("user")) for r in replies))
        parent.update(
            {
                "thread_ts": parent["ts"],
                "reply_count": len(replies),
                "reply_users_count": len(users),
                "latest_reply": replies[-1]["ts"],
                "reply_users": users,
                "is_locked": False,
                "subscribed": False,
            }
        )

    def message(self, channel_id: str, ts: Any) -> Json:
        with self.lock:
            found = self.channel(channel_id).messages.get(str(ts)) if ts else None
            if found is None:
                raise SlackError("message_not_found")
            return self._public(found)

    def update_message(
        self,
        channel_id: str,
        ts: str,
        text: str | None,
        blocks: list[Json] | None,
        attachments: list[Json] | None = None,
        editor: str | None = None,
        replace_all: bool = False,
    ) -> Json:
        """Replaces text/blocks and marks the message edited.

        chat.update keeps the fields it is not given, as Slack does; a response_url with
        replace_original replaces the whole message (`replace_all`).
        """
        with self.lock:
            channel = self.channel(channel_id)
            message = channel.messages.get(str(ts))
            if message is None:
                raise SlackError("message_not_found")
            if message.get("user") != self.bot_user_id:
                raise SlackError("cant_update_message")
            if replace_all:
                message.pop("blocks", None)
                message.pop("attachments", None)
            if text is not None:
                message["text"] = text
            if blocks is not None:
                message["blocks"] = blocks
            if attachments is not None:
                message["attachments"] = attachments
            message["edited"] = {"user": editor or self.bot_user_id, "ts": self.ts.next()}
            self._record_version(channel_id, message)
            return self._public(message)

    def delete_message(self, channel_id: str, ts: str) -> None:
        with self.lock:
            channel = self.channel(channel_id)
            message = channel.messages.get(str(ts))
            if message is None:
                raise SlackError("message_not_found")
            if message.get("user") != self.bot_user_id:
                raise SlackError("cant_delete_message")
            del channel.messages[str(ts)]
            parent_ts = message.get("thread_ts")
            if parent_ts and parent_ts != message["ts"] and parent_ts in channel.messages:
                parent = channel.messages[parent_ts]
                replies = [m for m in channel.messages.values() if self._is_reply_of(m, parent_ts)]
                self._refresh_thread(parent, replies)

    @staticmethod
    def _public(message: Json) -> Json:
        return copy.deepcopy(message)

    def history(self, channel_id: str) -> list[Json]:
        """What the channel shows: top-level messages and broadcast replies, newest first."""
        with self.lock:
            channel = self.channel(channel_id)
            shown = [
                m
                for m in channel.messages.values()
                if not m.get("thread_ts")
                or m["thread_ts"] == m["ts"]
                or m.get("subtype") == "thread_broadcast"
            ]
            return [self._public(m) for m in reversed(shown)]

    def thread(self, channel_id: str, ts: Any) -> list[Json]:
        """Parent first, then replies oldest first (a reply's ts gives its whole thread)."""
        with self.lock:
            channel = self.channel(channel_id)
            message = channel.messages.get(str(ts)) if ts else None
            if message is None:
                raise SlackError("thread_not_found")
            parent_ts = message.get("thread_ts") or message["ts"]
            parent = channel.messages.get(parent_ts, message)
            replies = [m for m in channel.messages.values() if self._is_reply_of(m, parent_ts)]
            return [self._public(m) for m in [parent, *replies]]

    def message_versions(self, channel_id: str, ts: str) -> list[Json]:
        with self.lock:
            return copy.deepcopy(self.versions.get((channel_id, str(ts)), []))

    # --------------------------------------------------------------- ephemerals

    def post_ephemeral(
        self,
        channel_id: str,
        user_id: str,
        text: str,
        blocks: list[Json] | None,
        thread_ts: str | None = None,
        author: str | None = None,
    ) -> Json:
        with self.lock:
            self.channel(channel_id)
            self.user(user_id)
            message: Json = {
                "type": "message",
                "subtype": "ephemeral",
                "channel": channel_id,
                "ephemeral_to": user_id,
                "text": text,
                "ts": self.ts.next(),
            }
            message.update(self._author_fields(author or self.bot_user_id))
            if blocks is not None:
                message["blocks"] = blocks
            if thread_ts:
                message["thread_ts"] = str(thread_ts)
            self.ephemerals.setdefault(user_id, []).append(message)
            return self._public(message)

    def ephemeral(self, user_id: str, ts: str) -> Json | None:
        with self.lock:
            for message in self.ephemerals.get(user_id, []):
                if message["ts"] == ts:
                    return message
            return None

    def replace_ephemeral(
        self, user_id: str, ts: str, text: str, blocks: list[Json] | None
    ) -> Json:
        with self.lock:
            message = self.ephemeral(user_id, ts)
            if message is None:
                raise SlackError("message_not_found")
            message["text"] = text
            if blocks is None:
                message.pop("blocks", None)
            else:
                message["blocks"] = blocks
            return self._public(message)

    def delete_ephemeral(self, user_id: str, ts: str) -> None:
        with self.lock:
            kept = [m for m in self.ephemerals.get(user_id, []) if m["ts"] != ts]
            self.ephemerals[user_id] = kept

    def user_ephemerals(self, user_id: str, channel_id: str | None = None) -> list[Json]:
        """A user's ephemeral messages, oldest first, optionally in one channel."""
        with self.lock:
            return [
                self._public(m)
                for m in self.ephemerals.get(user_id, [])
                if channel_id is None or m["channel"] == channel_id
            ]

    # ------------------------------------------------------------ triggers/urls

    def issue_trigger(self, user_id: str) -> str:
        with self.lock:
            number = self._ids.next()
            trigger_id = f"{int(time.time())}.{number}.{number * 7919 % 100000:05d}sandbox"
            self.triggers[trigger_id] = Trigger(user_id, self.clock())
            return trigger_id

    def consume_trigger(self, trigger_id: Any) -> str:
        """The user the trigger belongs to; each trigger works once, within 3 seconds (Slack's;
        `trigger_seconds`)."""
        with self.lock:
            trigger = self.triggers.get(str(trigger_id)) if trigger_id else None
            if trigger is None:
                raise SlackError("invalid_trigger_id")
            if trigger.used:
                raise SlackError("exchanged_trigger_id")
            if self.clock() - trigger.issued > self.trigger_seconds:
                raise SlackError("expired_trigger_id")
            trigger.used = True
            return trigger.user

    def issue_response_url(
        self, user_id: str, channel_id: str, original_ts: str | None, ephemeral: bool
    ) -> str:
        with self.lock:
            url_id = f"{self._ids.next()}x{int(time.time())}"
            self.response_urls[url_id] = ResponseUrl(
                user_id, channel_id, self.clock(), original_ts, ephemeral
            )
            return url_id

    def use_response_url(self, url_id: str) -> ResponseUrl:
        """Counts one use; a url works 5 times within 30 minutes (then 404 like Slack)."""
        with self.lock:
            found = self.response_urls.get(url_id)
            if found is None or self.clock() - found.issued > RESPONSE_URL_TTL_SECONDS:
                raise SlackError("expired_url", status=404)
            if found.uses >= RESPONSE_URL_MAX_USES:
                raise SlackError("used_url", status=404)
            found.uses += 1
            return found

    # -------------------------------------------------------------------- views

    def _new_view(self, user_id: str, view: Json, previous: str | None, root: str | None) -> Json:
        view_id = self.next_id("V")
        stored = self._view_shape(view_id, view, previous, root or view_id)
        self.views[view_id] = stored
        self.view_owner[view_id] = user_id
        return stored

    def _view_shape(self, view_id: str, view: Json, previous: str | None, root: str) -> Json:
        return {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": view["type"],
            "blocks": view["blocks"],
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": state_values(view["blocks"], None)},
            "hash": f"{int(time.time())}.{self._ids.next():08d}",
            "title": view.get("title"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "previous_view_id": previous,
            "root_view_id": root,
            "app_id": APP_ID,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        }

    def open_view(self, user_id: str, view: Json) -> Json:
        """A new modal stack for the user (an open one is replaced, as a new root)."""
        with self.lock:
            for old in self.modal_stacks.get(user_id, []):
                self.views.pop(old, None)
            stored = self._new_view(user_id, view, None, None)
            self.modal_stacks[user_id] = [stored["id"]]
            return copy.deepcopy(stored)

    def push_view(self, user_id: str, view: Json) -> Json:
        with self.lock:
            stack = self.modal_stacks.get(user_id) or []
            if not stack:
                raise SlackError("not_found")
            if len(stack) >= VIEW_STACK_MAX:
                raise SlackError("push_limit_reached")
            stored = self._new_view(user_id, view, stack[-1], stack[0])
            stack.append(stored["id"])
            return copy.deepcopy(stored)

    def find_view(self, view_id: Any = None, external_id: Any = None) -> Json:
        with self.lock:
            if view_id:
                found = self.views.get(str(view_id))
            else:
                matches = [
                    v
                    for v in self.views.values()
                    if external_id and v["external_id"] == external_id
                ]
                found = matches[0] if matches else None
            if found is None:
                raise SlackError("not_found")
            return found

    def update_view(
        self, view: Json, view_id: Any = None, external_id: Any = None, hash_: Any = None
    ) -> Json:
        with self.lock:
            current = self.find_view(view_id, external_id)
            if hash_ and hash_ != current["hash"]:
                raise SlackError("hash_conflict")
            if view["type"] != current["type"]:
                raise SlackError("invalid_arguments", extra={"detail": "view type cannot change"})
            updated = self._view_shape(
                current["id"], view, current["previous_view_id"], current["root_view_id"]
            )
            self.views[current["id"]] = updated
            return copy.deepcopy(updated)

    def publish_home(self, user_id: str, view: Json, hash_: Any = None) -> Json:
        with self.lock:
            self.user(user_id)
            if view["type"] != "home":
                raise SlackError("invalid_arguments", extra={"detail": "views.publish needs home"})
            existing = self.home_views.get(user_id)
            if existing is not None:
                if hash_ and hash_ != self.views[existing]["hash"]:
                    raise SlackError("hash_conflict")
                updated = self._view_shape(existing, view, None, existing)
                self.views[existing] = updated
                return copy.deepcopy(updated)
            stored = self._new_view(user_id, view, None, None)
            self.home_views[user_id] = stored["id"]
            return copy.deepcopy(stored)

    def top_modal(self, user_id: str) -> str | None:
        with self.lock:
            stack = self.modal_stacks.get(user_id) or []
            return stack[-1] if stack else None

    def open_views(self, user_id: str) -> list[Json]:
        """The user's modal stack, root first."""
        with self.lock:
            return [copy.deepcopy(self.views[v]) for v in self.modal_stacks.get(user_id, [])]

    def close_top(self, user_id: str) -> None:
        with self.lock:
            stack = self.modal_stacks.get(user_id) or []
            if stack:
                self.views.pop(stack.pop(), None)

    def clear_modals(self, user_id: str) -> None:
        with self.lock:
            for view_id in self.modal_stacks.pop(user_id, []):
                self.views.pop(view_id, None)

    def set_view_state(self, view_id: str, values: Json) -> None:
        with self.lock:
            if view_id in self.views:
                self.views[view_id]["state"] = {"values": values}
