"""The web UI's HTTP server: the page, its static files and the JSON endpoints it calls.

Every endpoint acts through the emulators' own entry points (the Slack emulator's sandbox
methods, git over HTTP, the GitHub REST API), as the acting user. Bad input is a 400 with a
JSON `message`; nothing a browser sends can crash the server, and a closed tab costs nothing
(the page polls; the server keeps no per-tab state). It must not hold workflow logic.

Only its own page may drive it: every request must name the UI's own Host (a DNS-rebinding
page names its own), a state-changing request with an Origin must come from the UI's origin,
and a body must be JSON (a cross-origin form or `no-cors` fetch cannot send
`application/json` without a preflight, which is never answered). Refusals are 403 and 415.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from importlib import resources
from typing import Any, Self

from sandbox.httpserver import BackgroundServer, HttpEmulator, QuietHandler
from sandbox.slack.models import SlackError
from sandbox.webui.autoci import AutoCI
from sandbox.webui.slackview import slack_view
from sandbox.webui.worldactions import ActionError, WorldActions
from sandbox.webui.worldview import WorldView
from sandbox.world import World

log = logging.getLogger(__name__)
Json = dict[str, Any]
BODY_MAX = 256 * 1024
TEXT_MAX = 4000
STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/static/app.css": ("app.css", "text/css; charset=utf-8"),
}
NO_STORE = {"Cache-Control": "no-store"}


class BadRequest(Exception):
    """The request is malformed; `str()` says how, for the 400's message."""


class NotJson(BadRequest):
    """The body is not declared as JSON (a 415)."""


LOOPBACK = ("127.0.0.1", "localhost")
SAFE_METHODS = ("GET", "HEAD")


def allowed_hosts(host: str, port: int) -> frozenset[str]:
    """The Host values the UI answers to: its address and, on loopback, both loopback names."""
    names = {host, *LOOPBACK} if host in LOOPBACK else {host}
    return frozenset(f"{name}:{port}" for name in names)


def refusal(method: str, host: str | None, origin: str | None, fetch_site: str | None,
            hosts: frozenset[str]) -> str | None:
    """Why a request is refused before routing (a 403's message), or None."""
    if (host or "").strip().lower() not in hosts:
        return "this UI answers only to its own address (Host: " + " or ".join(sorted(hosts)) + ")"
    if method in SAFE_METHODS:
        return None
    if origin is not None and origin.strip().lower() not in {f"http://{h}" for h in hosts}:
        return "a request from another origin may not act in the sandbox"
    if fetch_site is not None and fetch_site.strip().lower() not in ("same-origin", "none"):
        return "a request from another site may not act in the sandbox"
    return None


def _load_static() -> dict[str, bytes]:
    folder = resources.files("sandbox.webui") / "static"
    return {name: (folder / name).read_bytes() for name, _ in STATIC.values()}


# ------------------------------------------------------------------ input checks


def _string(body: Json, key: str, *, required: bool = True, limit: int = 255) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise BadRequest(f"'{key}' is required")
        return None
    if not isinstance(value, str):
        raise BadRequest(f"'{key}' must be a string")
    if len(value) > limit:
        raise BadRequest(f"'{key}' is longer than {limit} characters")
    return value


def _number(body: Json, key: str) -> int:
    value = body.get(key)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 10**9:
        raise BadRequest(f"'{key}' must be a positive whole number")
    return value


def _values(body: Json) -> Json | None:
    values = body.get("values")
    if values is None:
        return None
    if not isinstance(values, dict) or not all(
        isinstance(block, str)
        and isinstance(actions, dict)
        and all(isinstance(action, str) for action in actions)
        for block, actions in values.items()
    ):
        raise BadRequest("'values' must be an object {block_id: {action_id: value}}")
    return values


class WebUI(HttpEmulator):
    """The sandbox's Slack-like web client and world panels; start() serves, stop() ends."""

    def __init__(
        self, world: World, host: str = "127.0.0.1", port: int = 0, *, auto_ci: bool = False
    ) -> None:
        self.world = world
        self.auto_ci = AutoCI(world) if auto_ci else None
        self.view = WorldView(world)
        self.actions = WorldActions(world)
        self._static = _load_static()
        self._routes: dict[str, Callable[[Json], Json]] = {
            "/api/command": self._command,
            "/api/post": self._post,
            "/api/click": self._click,
            "/api/submit": self._submit,
            "/api/close": self._close,
            "/api/push": self._push,
            "/api/break": self._break,
            "/api/approve": self._approve,
            "/api/check": self._check,
            "/api/home_opened": self._home_opened,
        }
        self._server = BackgroundServer(_make_handler(self), host, port)
        self.hosts = allowed_hosts(host, self._server.port)

    def start(self) -> Self:
        super().start()
        if self.auto_ci is not None:
            self.auto_ci.start()
        return self

    def stop(self) -> None:
        if self.auto_ci is not None:
            self.auto_ci.stop()
        super().stop()
        self.actions.stop()

    # ---------------------------------------------------------------- reads

    def _person(self, user: str | None) -> str:
        known = {u.id for u in self.world.slack.workspace.users.values() if not u.is_bot}
        if user not in known:
            raise BadRequest(f"unknown user {user!r}: pick one of {', '.join(sorted(known))}")
        return str(user)

    def state(self, user: str) -> Json:
        """What the page draws for `user`: the Slack side and the world panels."""
        return {
            "ok": True,
            "me": self._person(user),
            "slack": slack_view(self.world, user),
            "world": self.view.snapshot(),
        }

    # -------------------------------------------------------- slack actions

    def _command(self, body: Json) -> Json:
        user = self._person(_string(body, "user"))
        channel = _string(body, "channel")
        text = _string(body, "text", limit=TEXT_MAX) or ""
        if not text.startswith("/"):
            raise BadRequest("a command starts with '/', like /promote staging")
        answer = self.world.slack.command(user, channel, text)
        return {"ok": True, "status": answer.get("status"), "error": answer.get("error")}

    def _post(self, body: Json) -> Json:
        user = self._person(_string(body, "user"))
        message = self.world.slack.post_as_user(
            user,
            str(_string(body, "channel")),
            str(_string(body, "text", limit=TEXT_MAX)),
            _string(body, "thread_ts", required=False),
        )
        return {"ok": True, "ts": message["ts"]}

    def _click(self, body: Json) -> Json:
        user = self._person(_string(body, "user"))
        view_id = _string(body, "view_id", required=False)
        channel = None if view_id else _string(body, "channel")
        ts = None if view_id else _string(body, "ts")
        value = body.get("value")
        if value is not None and not isinstance(value, str | list):
            raise BadRequest("'value' must be a string or a list of strings")
        answer = self.world.slack.click(
            user,
            _string(body, "action_id"),
            channel=channel,
            ts=ts,
            view_id=view_id,
            value=value,
            block_id=_string(body, "block_id", required=False),
            values=_values(body),
        )
        return {"ok": True, "status": answer.get("status"), "error": answer.get("error")}

    def _submit(self, body: Json) -> Json:
        user = self._person(_string(body, "user"))
        answer = self.world.slack.submit(user, _string(body, "view_id"), _values(body))
        if not answer.get("ok"):
            return {
                "ok": False,
                "error": answer.get("error"),
                "block_ids": answer.get("block_ids") or [],
                "message": "Please fill in the required fields.",
            }
        return {
            "ok": True,
            "status": answer.get("status"),
            "error": answer.get("error"),
            "response_action": answer.get("response_action"),
            "errors": answer.get("errors") or {},
            "view_error": answer.get("view_error"),
        }

    def _close(self, body: Json) -> Json:
        user = self._person(_string(body, "user"))
        answer = self.world.slack.interactions.close(user, _string(body, "view_id"))
        return {"ok": True, "notified": bool(answer.get("notified"))}

    def _home_opened(self, body: Json) -> Json:
        """The user opened the App Home tab: Slack sends the app `app_home_opened`.

        The Slack emulator delivers that event once it has `open_home(user)`; until then the
        tab shows whatever the app last published for the user.
        """
        user = self._person(_string(body, "user"))
        open_home = getattr(self.world.slack, "open_home", None)
        if open_home is None:
            return {"ok": True, "delivered": False}
        answer = open_home(user)
        return {"ok": True, "delivered": True, "error": (answer or {}).get("error")}

    # -------------------------------------------------------- world actions

    def _push(self, body: Json) -> Json:
        kind = _string(body, "kind", required=False) or "bump"
        done = self.actions.push_change(_string(body, "message", required=False, limit=500), kind)
        self.view.invalidate()
        return {"ok": True, **done}

    def _break(self, body: Json) -> Json:
        done = self.actions.break_deployment()
        self.view.invalidate()
        return {"ok": True, **done}

    def _approve(self, body: Json) -> Json:
        done = self.actions.approve(_number(body, "number"))
        self.view.invalidate()
        return {"ok": True, **done}

    def _check(self, body: Json) -> Json:
        conclusion = _string(body, "conclusion")
        name = _string(body, "name", required=False, limit=100) or "ci"
        done = self.actions.set_check(_number(body, "number"), str(conclusion), name)
        self.view.invalidate()
        return {"ok": True, **done}

    # -------------------------------------------------------------- routing

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], raw: bytes, content_type: str
    ) -> tuple[int, Json]:
        """One JSON request to (status, body); every failure becomes a JSON answer."""
        try:
            if method == "GET" and path == "/api/state":
                user = (query.get("user") or [""])[-1]
                return 200, self.state(user)
            route = self._routes.get(path)
            if route is None:
                return 404, {"ok": False, "error": "not_found", "message": f"no route {path}"}
            if method != "POST":
                return 405, {
                    "ok": False,
                    "error": "method_not_allowed",
                    "message": f"{path} takes POST",
                }
            return 200, route(self._body(raw, content_type))
        except NotJson as exc:
            return 415, {"ok": False, "error": "unsupported_media_type", "message": str(exc)}
        except BadRequest as exc:
            return 400, {"ok": False, "error": "bad_request", "message": str(exc)}
        except SlackError as exc:
            detail = exc.extra.get("detail") if isinstance(exc.extra, dict) else None
            return 400, {"ok": False, "error": exc.code, "message": detail or exc.code}
        except ActionError as exc:
            return 400, {"ok": False, "error": "refused", "message": str(exc)}
        except Exception:  # never crash: log under a reference, answer generically
            reference = uuid.uuid4().hex[:8]
            log.exception("web UI request %s %s failed (ref %s)", method, path, reference)
            return 500, {
                "ok": False,
                "error": "internal_error",
                "message": f"something went wrong (ref {reference})",
            }

    @staticmethod
    def _body(raw: bytes, content_type: str) -> Json:
        if len(raw) > BODY_MAX:
            raise BadRequest("the body is too large")
        if content_type.split(";")[0].strip().lower() != "application/json":
            raise NotJson("send JSON (Content-Type: application/json)")
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest("the body is not valid JSON") from exc
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object")
        return body

    def static(self, path: str) -> tuple[bytes, str] | None:
        found = STATIC.get(path)
        return (self._static[found[0]], found[1]) if found else None


def _make_handler(ui: WebUI) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        do_PUT = do_DELETE = do_PATCH = do_POST

        def _serve(self) -> None:
            try:
                why = refusal(self.command, self.headers.get("Host"),
                              self.headers.get("Origin"), self.headers.get("Sec-Fetch-Site"),
                              ui.hosts)
                if why is not None:
                    self.close_connection = True
                    self.send_json(403, {"ok": False, "error": "forbidden", "message": why},
                                   NO_STORE)
                    return
                path = self.path_only
                if path == "/favicon.ico":
                    self.send_bytes(204, b"", "image/x-icon")
                    return
                static = ui.static(path) if self.command == "GET" else None
                if static is not None:
                    self.send_bytes(200, static[0], static[1], NO_STORE)
                    return
                length = int(self.headers.get("Content-Length") or 0)
                if length > BODY_MAX:
                    self.close_connection = True
                    self.send_json(
                        400,
                        {"ok": False, "error": "bad_request", "message": "the body is too large"},
                        NO_STORE,
                    )
                    return
                raw = self.read_body() if self.command != "GET" else b""
                status, body = ui.handle(
                    self.command, path, self.query, raw, self.headers.get("Content-Type") or ""
                )
                self.send_json(status, body, NO_STORE)
            except ValueError:
                self.close_connection = True
                self.send_json(
                    400,
                    {"ok": False, "error": "bad_request", "message": "bad Content-Length"},
                    NO_STORE,
                )
            except (ConnectionError, TimeoutError):
                self.close_connection = True  # the tab went away: nothing to answer

    return Handler


def start_webui(
    world: World, host: str = "127.0.0.1", port: int = 0, *, auto_ci: bool = False
) -> WebUI:
    """Starts the web UI for `world`; its `url` is what the sandbox prints.

    `auto_ci` runs a stand-in CI that passes the `ci` check on each open pull request's new
    head after a moment (see autoci.py), so a promotion needs no "CI passes" click.
    """
    return WebUI(world, host, port, auto_ci=auto_ci).start()
