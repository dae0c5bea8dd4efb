"""SlackEmulator: the emulated Slack on a loopback port, and its in-process API for tests.

Routes: {url}/api/<method> (Web API and the emulator's own sandbox.* methods, JSON or form
bodies or query string), {url}/response/<id> (response_url), and apps.connections.open, whose
websocket (socketmode.py) listens on a port of its own. Every failure is answered in Slack's
shape; no request can crash the server. It must not hold workspace logic itself.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from sandbox.httpserver import BackgroundServer, HttpEmulator, QuietHandler
from sandbox.slack.interactions import Interactions
from sandbox.slack.models import (
    Bucket,
    RateLimit,
    SlackChannel,
    SlackError,
    SlackUser,
    SlackUserGroup,
)
from sandbox.slack.ratelimit import RateLimiter
from sandbox.slack.socketmode import SocketModeServer, bearer
from sandbox.slack.webapi import Params, WebApi
from sandbox.slack.workspace import TRIGGER_TTL_SECONDS, Json, Workspace, ack_deadline

log = logging.getLogger(__name__)


def parse_params(query: dict[str, list[str]], content_type: str, raw: bytes) -> Params:
    """Query string, then the body (JSON or form) on top; raises invalid_json/invalid_form_data."""
    params: Params = {key: values[-1] for key, values in query.items()}
    if not raw.strip():
        return params
    mime = content_type.split(";")[0].strip().lower()
    if mime == "application/json":
        try:
            body = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise SlackError("invalid_json") from exc
        if not isinstance(body, dict):
            raise SlackError("invalid_json")
        params.update({k: v for k, v in body.items() if v is not None})
        return params
    if mime not in ("", "application/x-www-form-urlencoded"):
        raise SlackError("invalid_form_data")
    try:
        form = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SlackError("invalid_form_data") from exc
    params.update({key: values[-1] for key, values in form.items()})
    return params


class SlackEmulator(HttpEmulator):
    """The emulated Slack workspace (team T0SANDBOX) and its bot user.

    `bot_request_url` is where slash commands and interactions go; it may be set after
    start(), since the bot starts later. `app_token` (xapp-..., also settable later) is the
    app-level token apps.connections.open accepts: while the app holds a Socket Mode
    connection, commands, interactions and events go over it instead of `bot_request_url`.
    `clock` (monotonic seconds) drives trigger expiry, rate-limit windows and response_url
    lifetimes, so tests can move time without sleeping.
    """

    def __init__(
        self,
        signing_secret: str,
        bot_token: str,
        users: list[SlackUser],
        channels: list[SlackChannel],
        usergroups: list[SlackUserGroup] | None = None,
        *,
        bot_user_id: str = "U0BOT0001",
        bot_name: str = "promotebot",
        bot_request_url: str | None = None,
        app_token: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        ack_timeout: float | None = None,
        trigger_seconds: float = TRIGGER_TTL_SECONDS,
        known_commands: frozenset[str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.workspace = Workspace(users, channels, usergroups or [], bot_user_id, bot_name, clock,
                                   trigger_seconds)
        self.limiter = RateLimiter(clock)
        self.webapi = WebApi(self.workspace, bot_token, self.limiter)
        self.bot_request_url = bot_request_url
        self.socket_mode = SocketModeServer(app_token, host)
        self.interactions = Interactions(
            self.workspace,
            signing_secret,
            lambda: self.bot_request_url,
            lambda: self.url,
            ack_deadline() if ack_timeout is None else ack_timeout,
            known_commands,
            self.socket_mode,
        )
        self._server = BackgroundServer(_make_handler(self), host, port)
        self._sandbox_methods: dict[str, Callable[[Params], Json]] = {
            "sandbox.command": lambda p: self.command(
                p.get("user"), p.get("channel"), p.get("text")
            ),
            "sandbox.click": lambda p: self.click(
                p.get("user"),
                p.get("action_id"),
                channel=p.get("channel"),
                ts=p.get("ts") or p.get("message_ts"),
                view_id=p.get("view_id") or p.get("view"),
                value=p.get("value"),
                block_id=p.get("block_id"),
                values=p.get("values"),
            ),
            "sandbox.submit": lambda p: self.submit(
                p.get("user"), p.get("view_id") or p.get("view"), p.get("values")
            ),
            "sandbox.close": lambda p: self.interactions.close(
                p.get("user"), p.get("view_id") or p.get("view")
            ),
            "sandbox.ephemerals": lambda p: {
                "ok": True,
                "messages": self.ephemerals(str(p.get("user") or ""), p.get("channel") or None),
            },
            "sandbox.post": lambda p: self._sandbox_post(p),
            "sandbox.views": lambda p: {
                "ok": True,
                "views": self.workspace.open_views(str(p.get("user") or "")),
                "home": self._home(str(p.get("user") or "")),
            },
            "sandbox.state": lambda p: self.state(),
            "sandbox.open_home": lambda p: self.open_home(str(p.get("user") or "")),
        }

    # ---------------------------------------------------------------- lifecycle

    def stop(self) -> None:
        self.socket_mode.stop()
        super().stop()

    @property
    def app_token(self) -> str | None:
        return self.socket_mode.app_token

    @app_token.setter
    def app_token(self, token: str | None) -> None:
        self.socket_mode.app_token = token

    @property
    def socket_connections(self) -> int:
        """How many Socket Mode connections the app holds open now."""
        return self.socket_mode.connection_count

    @property
    def api_url(self) -> str:
        """Base URL for slack_sdk: WebClient(base_url=emulator.api_url) (ends with '/')."""
        return f"{self._server.url}/api/"

    # ------------------------------------------------------------ test controls

    def set_rate_limit(self, limit: RateLimit | None, method: str = "chat.postMessage") -> None:
        """Turns a per-channel limit on (or off with None) for a Web API method."""
        self.limiter.set(limit, method)

    def set_slack_limits(self, limits: Iterable[Bucket]) -> None:
        """Slack's own limits to enforce from now on (SLACK_LIMITS, on from the start; an
        empty list turns them off, for a test about something else that posts in bursts)."""
        self.limiter.enforce(limits)

    def set_bot_membership(self, channel_id: str, member: bool) -> None:
        self.workspace.set_bot_membership(channel_id, member)

    # ------------------------------------------------------ acting as the users

    def command(self, user: Any, channel: Any, text: Any) -> Json:
        """A user types `text` ("/promote staging") in `channel`; returns the app's answer."""
        return self.interactions.command(user, channel, text)

    def open_home(self, user: str) -> Json:
        """The user opens the app's Home tab (Slack sends the app an app_home_opened event)."""
        return self.interactions.app_home_opened(user)

    def click(
        self,
        user: Any,
        action_id: Any,
        *,
        channel: Any = None,
        ts: Any = None,
        view_id: Any = None,
        value: Any = None,
        block_id: Any = None,
        values: Any = None,
    ) -> Json:
        """A user clicks `action_id` in the message (channel, ts) or in the open view."""
        return self.interactions.click(
            user,
            action_id,
            channel_id=channel,
            message_ts=ts,
            view_id=view_id,
            value=value,
            block_id=block_id,
            values=values,
        )

    def submit(self, user: Any, view_id: Any, values: Any = None) -> Json:
        return self.interactions.submit(user, view_id, values)

    def post_as_user(
        self, user: str, channel: str, text: str, thread_ts: str | None = None
    ) -> Json:
        """A person writes in a channel (or a thread)."""
        with self.workspace.lock:
            state = self.workspace.channel(channel)
            self.workspace.user(user)
            if user not in state.members:
                raise SlackError("not_in_channel")
            return self.workspace.post_message(channel, user, text, None, thread_ts=thread_ts)

    def _sandbox_post(self, params: Params) -> Json:
        message = self.post_as_user(
            str(params.get("user") or ""),
            str(params.get("channel") or ""),
            str(params.get("text") or ""),
            params.get("thread_ts") or None,
        )
        return {
            "ok": True,
            "channel": params.get("channel"),
            "ts": message["ts"],
            "message": message,
        }

    # ------------------------------------------------------------------- reads

    def history(self, channel: str) -> list[Json]:
        """What the channel shows now, newest first (as conversations.history)."""
        return self.workspace.history(channel)

    def replies(self, channel: str, ts: str) -> list[Json]:
        return self.workspace.thread(channel, ts)

    def message_versions(self, channel: str, ts: str) -> list[Json]:
        """Every version of a message, oldest first: as posted, then after each update."""
        return self.workspace.message_versions(channel, ts)

    def direct_messages(self, user: str) -> list[Json]:
        """What the bot said to `user` in its direct conversation with them, oldest first."""
        return self.workspace.ims(user)

    def ephemerals(self, user: str, channel: str | None = None) -> list[Json]:
        return self.workspace.user_ephemerals(user, channel)

    def open_views(self, user: str) -> list[Json]:
        """The user's modal stack, root first."""
        return self.workspace.open_views(user)

    def _home(self, user: str) -> Json | None:
        view_id = self.workspace.home_views.get(user)
        return self.workspace.find_view(view_id) if view_id else None

    def state(self) -> Json:
        """Everything a UI needs to draw the workspace: users, groups, channels and messages."""
        ws = self.workspace
        with ws.lock:
            channels = []
            for channel_id, channel in ws.channels.items():
                threads = {
                    m["ts"]: ws.thread(channel_id, m["ts"])[1:]
                    for m in ws.history(channel_id)
                    if m.get("reply_count")
                }
                channels.append(
                    {
                        "id": channel_id,
                        "name": channel.info.name,
                        "is_private": channel.info.is_private,
                        "is_im": channel.info.is_im,
                        "members": sorted(channel.members),
                        "bot_is_member": channel.bot_is_member,
                        "messages": list(reversed(ws.history(channel_id))),
                        "threads": threads,
                    }
                )
            return {
                "ok": True,
                "team_id": "T0SANDBOX",
                "bot_user_id": ws.bot_user_id,
                "bot_request_url": self.bot_request_url,
                "socket_connections": self.socket_mode.connection_count,
                "users": [u.to_api() for u in ws.users.values()],
                "usergroups": [
                    {"id": g.id, "handle": g.handle, "name": g.name, "users": list(g.users)}
                    for g in ws.usergroups.values()
                ],
                "channels": channels,
                "ephemerals": {user: ws.user_ephemerals(user) for user in ws.ephemerals},
                "views": {user: ws.open_views(user) for user in ws.modal_stacks},
                "home": {user: self._home(user) for user in ws.home_views},
            }

    # ------------------------------------------------------------------- routing

    def handle_api(self, method: str, params: Params, authorization: str | None) -> Json:
        sandbox_method = self._sandbox_methods.get(method)
        if sandbox_method is not None:
            return sandbox_method(params)
        if method == "apps.connections.open":  # the one method that takes the app-level token
            return self.socket_mode.open_url(bearer(authorization, params))
        return self.webapi.call(method, params, authorization)


def _make_handler(emulator: SlackEmulator) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:
            self._route(b"")

        def do_POST(self) -> None:
            self._route(self.read_body())

        def _route(self, raw: bytes) -> None:
            path = self.path_only
            try:
                if path.startswith("/api/"):
                    self._api(path[len("/api/") :], raw)
                elif path.startswith("/response/") and self.command == "POST":
                    body = emulator.interactions.response_url_post(path[len("/response/") :], raw)
                    self.send_json(200, body)
                else:
                    self.send_json(404, {"ok": False, "error": "not_found"})
            except SlackError as exc:
                self.send_json(exc.status, exc.body(), exc.headers)
            except Exception:  # never crash: answer like Slack's internal error
                log.exception("slack emulator failed on %s", path)
                self.send_json(500, {"ok": False, "error": "internal_error"})

        def _api(self, method: str, raw: bytes) -> None:
            params = parse_params(self.query, self.headers.get("Content-Type") or "", raw)
            body = emulator.handle_api(method, params, self.headers.get("Authorization"))
            self.send_json(200, body, emulator.webapi.scope_headers())

    return Handler
