"""Slack's Socket Mode, emulated: apps.connections.open, the websocket it hands out, envelopes.

An app with an app-level token (xapp-) asks apps.connections.open for a one-use URL
(ws://127.0.0.1:<port>/link/?ticket=...), connects, and is greeted with `hello`. While at
least one connection is open, Slack sends the app its payloads there, each in an envelope, and
waits for `{"envelope_id": ..., "payload": ...}` as it waits for an HTTP ack. This module
carries envelopes and acks; it must not interpret an ack (interactions.py applies it).
"""

from __future__ import annotations

import contextlib
import hmac
import itertools
import json
import logging
import secrets
import socket
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from sandbox.slack.delivery import Delivery
from sandbox.slack.models import APP_ID, SlackError
from sandbox.slack.websocket import (
    CLOSE_GOING_AWAY,
    CLOSE_NORMAL,
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    FrameReader,
    FrameWriter,
    ProtocolError,
    read_upgrade,
    refusal,
    switching_protocols,
)

log = logging.getLogger(__name__)

EnvelopeType = Literal["slash_commands", "interactive", "events_api"]
HOST = "applink-sandbox-1"  # what Slack calls the server in debug_info
BOT_TOKEN_PREFIXES = ("xoxb-", "xoxp-", "xoxa-", "xoxe-")


def bearer(authorization: str | None, params: dict[str, Any]) -> str | None:
    if authorization and authorization.startswith("Bearer "):
        return authorization[len("Bearer ") :].strip() or None
    token = params.get("token")
    return str(token) if token else None


@dataclass
class _Pending:
    done: threading.Event = field(default_factory=threading.Event)
    ack: dict[str, Any] | None = None
    lost: bool = False  # the connection carrying the envelope went away


class _Connection:
    def __init__(self, sock: socket.socket, server: SocketModeServer) -> None:
        self.id = uuid.uuid4().hex[:12]
        self.sock = sock
        self.writer = FrameWriter(sock)
        self.server = server
        self.envelopes: set[str] = set()  # sent here and not acked yet
        self.open = True

    def send_json(self, message: dict[str, Any]) -> None:
        self.writer.send(OP_TEXT, json.dumps(message).encode())

    def run(self) -> None:
        reader = FrameReader(self.sock)
        try:
            while True:
                opcode, data = reader.read()
                if opcode == OP_TEXT:
                    self.server._on_text(data)
                elif opcode == OP_PING:
                    self.writer.send(OP_PONG, data)
                elif opcode == OP_CLOSE:
                    code = CLOSE_NORMAL if len(data) < 2 else int.from_bytes(data[:2], "big")
                    self.writer.close(code)
                    return
                elif opcode != OP_PONG:  # binary: Slack speaks JSON text only
                    raise ProtocolError("binary frames are not accepted")
        except ProtocolError as exc:
            with contextlib.suppress(OSError):
                self.writer.close(exc.code, str(exc))
        except (OSError, ConnectionError):
            pass  # the app closed the socket, or stop() shut it down
        finally:
            self.server._forget(self)

    def shutdown(self, code: int = CLOSE_GOING_AWAY) -> None:
        with contextlib.suppress(OSError):
            self.writer.close(code, "server stopping")
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)


class SocketModeServer:
    """The websocket side of the emulator. `app_token` may be set after construction (None:
    no app-level token is valid, as for an app without Socket Mode); the listener binds
    lazily on the first apps.connections.open, on `host` port 0."""

    def __init__(self, app_token: str | None = None, host: str = "127.0.0.1") -> None:
        self.app_token = app_token
        self._host = host
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._tickets: set[str] = set()
        self._connections: list[_Connection] = []
        self._pending: dict[str, _Pending] = {}
        self._turn = itertools.count()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._threads_lock = threading.Lock()
        # the envelopes sent, oldest first (the last 1000: a long sandbox session stays small)
        self.delivered: deque[dict[str, Any]] = deque(maxlen=1000)

    # ------------------------------------------------------------ apps.connections.open

    def open_url(self, token: str | None) -> dict[str, Any]:
        """apps.connections.open: not_authed, not_allowed_token_type (a bot or user token),
        invalid_auth; else a one-use websocket URL."""
        if not token:
            raise SlackError("not_authed")
        if token.startswith(BOT_TOKEN_PREFIXES):
            raise SlackError("not_allowed_token_type")
        if self.app_token is None or not hmac.compare_digest(
            token.encode(), self.app_token.encode()
        ):
            raise SlackError("invalid_auth")
        port = self._listen()
        ticket = secrets.token_hex(16)
        with self._lock:
            self._tickets.add(ticket)
        return {
            "ok": True,
            "url": f"ws://{self._host}:{port}/link/?ticket={ticket}&app_id={APP_ID}",
        }

    def _listen(self) -> int:
        with self._lock:
            if self._stopping.is_set():
                raise SlackError("internal_error", status=500)
            if self._listener is None:
                listener = socket.create_server((self._host, 0))
                listener.settimeout(0.1)
                self._listener = listener
                self._spawn(self._accept_loop, "socketmode-accept")
            return int(self._listener.getsockname()[1])

    def _spawn(self, target: Any, name: str, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._threads_lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _accept_loop(self) -> None:
        listener = self._listener
        assert listener is not None
        while not self._stopping.is_set():
            try:
                sock, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(None)
            self._spawn(self._serve, "socketmode-conn", sock)

    def _serve(self, sock: socket.socket) -> None:
        try:
            sock.settimeout(5)  # a handshake that never comes does not hold a thread forever
            upgrade = read_upgrade(sock)
            parts = urlsplit(upgrade.target)
            ticket = (parse_qs(parts.query).get("ticket") or [""])[0]
            if parts.path.rstrip("/") != "/link":
                sock.sendall(refusal(404, "Not Found"))
                sock.close()
                return
            with self._lock:
                valid = ticket in self._tickets and not self._stopping.is_set()
                self._tickets.discard(ticket)  # a URL serves one connection
            if not valid:
                sock.sendall(refusal(401, "Unauthorized"))
                sock.close()
                return
            sock.settimeout(None)
            sock.sendall(switching_protocols(upgrade.headers["sec-websocket-key"]))
        except (ProtocolError, OSError):
            with contextlib.suppress(OSError):
                sock.sendall(refusal(400, "Bad Request"))
            sock.close()
            return
        connection = _Connection(sock, self)
        with self._lock:
            self._connections.append(connection)
            count = len(self._connections)
        log.debug("socket mode connection %s opened (%d open)", connection.id, count)
        try:
            connection.send_json(
                {
                    "type": "hello",
                    "num_connections": count,
                    "debug_info": {
                        "host": HOST,
                        "build_number": 1,
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": APP_ID},
                }
            )
        except OSError:
            self._forget(connection)
            return
        connection.run()
        sock.close()

    # ------------------------------------------------------------------- envelopes

    @property
    def connection_count(self) -> int:
        with self._lock:
            return len(self._connections)

    def deliver(
        self,
        kind: EnvelopeType,
        payload: dict[str, Any],
        timeout: float,
        *,
        accepts_response_payload: bool,
    ) -> Delivery:
        """Sends `payload` in an envelope over one open connection (in turn) and waits up to
        `timeout` for its ack. The ack's payload comes back as a 200 JSON body (empty when the
        ack carries none), so that it is applied as an HTTP ack is."""
        envelope_id = str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": kind,
            "accepts_response_payload": accepts_response_payload,
        }
        if kind == "events_api":  # Slack retries only events, and says so in the envelope
            envelope["retry_attempt"] = 0
            envelope["retry_reason"] = ""
        pending = _Pending()
        with self._lock:
            if not self._connections:
                return Delivery(None, error="dispatch_failed", via="socket_mode")
            connection = self._connections[next(self._turn) % len(self._connections)]
            self._pending[envelope_id] = pending
            connection.envelopes.add(envelope_id)
            self.delivered.append(envelope)
        try:
            connection.send_json(envelope)
            pending.done.wait(timeout)
        except OSError:
            pending.lost = True
        finally:
            with self._lock:
                self._pending.pop(envelope_id, None)
                connection.envelopes.discard(envelope_id)
        if pending.ack is None:
            error = "dispatch_failed" if pending.lost else "operation_timeout"
            return Delivery(None, error=error, via="socket_mode")
        body = pending.ack.get("payload")
        text = json.dumps(body) if accepts_response_payload and body else ""
        return Delivery(200, text, {"Content-Type": "application/json"}, via="socket_mode")

    def _on_text(self, data: bytes) -> None:
        try:
            message = json.loads(data.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return  # Slack ignores what it cannot read
        if not isinstance(message, dict):
            return
        with self._lock:
            pending = self._pending.get(str(message.get("envelope_id")))
            if pending is None or pending.done.is_set():
                return  # late, repeated or unknown: ignored, as Slack does
            pending.ack = message
            pending.done.set()

    def _forget(self, connection: _Connection) -> None:
        with self._lock:
            if connection in self._connections:
                self._connections.remove(connection)
                log.debug("socket mode connection %s closed", connection.id)
            for envelope_id in connection.envelopes:
                pending = self._pending.get(envelope_id)
                if pending is not None and not pending.done.is_set():
                    pending.lost = True
                    pending.done.set()

    # --------------------------------------------------------------------- control

    def request_reconnect(self, reason: str = "refresh_requested") -> int:
        """Sends Slack's `disconnect` message on every open connection (Slack does so before it
        refreshes a link); a well-behaved client opens a new connection, then drops the old.
        Returns how many connections were asked."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.send_json(
                    {"type": "disconnect", "reason": reason, "debug_info": {"host": HOST}}
                )
        return len(connections)

    def disconnect_all(self, code: int = CLOSE_NORMAL) -> None:
        """Closes every open connection (an app with auto-reconnect opens a new one)."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            connection.shutdown(code)

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            listener, self._listener = self._listener, None
            connections = list(self._connections)
        for connection in connections:
            connection.shutdown()
        if listener is not None:
            listener.close()
        with self._threads_lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=2)
