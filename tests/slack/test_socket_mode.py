"""The emulator speaking Socket Mode to slack_sdk's own builtin SocketModeClient and to Bolt's
SocketModeHandler: apps.connections.open with the app-level token, the websocket handshake,
hello, envelopes for commands, clicks, submissions and events, and acks applied as over HTTP."""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from slack_bolt import Ack, App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from sandbox.slack import SlackEmulator
from sandbox.slack.models import APP_ID
from sandbox.slack.websocket import accept_key
from tests.slack.helpers import (
    APPROVE,
    DEPLOYS,
    DEV,
    TOKEN,
    FakeClock,
    Recorder,
    card,
    make_bolt,
    make_emulator,
    wait_for,
)

APP_TOKEN = "xapp-1-A0SANDBOX-1-sandbox-app-token"
Listener = Callable[[SocketModeClient, SocketModeRequest], None]


@pytest.fixture
def socket_emulator(clock: FakeClock) -> Iterator[SlackEmulator]:
    with make_emulator(clock, app_token=APP_TOKEN) as running:
        yield running


@pytest.fixture
def connect(socket_emulator: SlackEmulator) -> Iterator[Callable[..., SocketModeClient]]:
    """Connects slack_sdk's builtin SocketModeClient; every client is closed at the end."""
    clients: list[SocketModeClient] = []

    def make(listener: Listener | None = None, **options: Any) -> SocketModeClient:
        client = SocketModeClient(
            app_token=APP_TOKEN, web_client=WebClient(base_url=socket_emulator.api_url), **options
        )
        clients.append(client)
        if listener is not None:
            client.socket_mode_request_listeners.append(listener)
        before = socket_emulator.socket_connections
        client.connect()
        wait_for(lambda: socket_emulator.socket_connections > before)
        return client

    yield make
    close_from_server(socket_emulator, *clients)


def close_from_server(emulator: SlackEmulator, *clients: SocketModeClient) -> None:
    """Ends the clients without the up-to-3 s wait of SocketModeClient.close() (it waits for its
    reader's blocking recv): the emulator closes the sockets first, as Slack does on a refresh."""
    for client in clients:
        client.auto_reconnect_enabled = False
    emulator.socket_mode.disconnect_all()
    wait_for(lambda: emulator.socket_connections == 0)
    for client in clients:
        client.close()


def ack_with(payload: dict[str, Any] | None) -> tuple[Listener, list[SocketModeRequest]]:
    seen: list[SocketModeRequest] = []

    def listener(client: SocketModeClient, req: SocketModeRequest) -> None:
        seen.append(req)
        client.send_socket_mode_response(SocketModeResponse(req.envelope_id, payload=payload))

    return listener, seen


# ---------------------------------------------------------------- apps.connections.open


def test_connections_open_returns_a_loopback_websocket_url_for_the_app_token(
    socket_emulator: SlackEmulator,
) -> None:
    answer = WebClient(base_url=socket_emulator.api_url).apps_connections_open(app_token=APP_TOKEN)
    url = urlsplit(answer["url"])
    assert (url.scheme, url.hostname, url.path) == ("ws", "127.0.0.1", "/link/")
    assert "ticket=" in url.query and f"app_id={APP_ID}" in url.query
    assert url.port != urlsplit(socket_emulator.url).port


@pytest.mark.parametrize(
    ("token", "error"),
    [
        ("xapp-1-A0SANDBOX-1-wrong", "invalid_auth"),
        (TOKEN, "not_allowed_token_type"),
        ("", "not_authed"),
    ],
)
def test_connections_open_refuses_a_token_that_is_not_the_app_token(
    socket_emulator: SlackEmulator, token: str, error: str
) -> None:
    with pytest.raises(SlackApiError) as raised:
        WebClient(base_url=socket_emulator.api_url).apps_connections_open(app_token=token)
    assert raised.value.response.status_code == 200
    assert raised.value.response["error"] == error
    assert socket_emulator.socket_connections == 0


def test_connections_open_refuses_every_app_token_when_none_is_configured(
    emulator: SlackEmulator,
) -> None:
    with pytest.raises(SlackApiError) as raised:
        WebClient(base_url=emulator.api_url).apps_connections_open(app_token=APP_TOKEN)
    assert raised.value.response["error"] == "invalid_auth"


def test_bolt_socket_mode_handler_cannot_connect_with_a_wrong_app_token(
    socket_emulator: SlackEmulator,
) -> None:
    handler = SocketModeHandler(make_bolt(socket_emulator), "xapp-1-A0SANDBOX-1-wrong")
    try:
        with pytest.raises(SlackApiError) as raised:
            handler.connect()
        assert raised.value.response["error"] == "invalid_auth"
        assert socket_emulator.socket_connections == 0
    finally:
        handler.close()


# ------------------------------------------------------------------------ the websocket


def raw_handshake(url: str) -> tuple[socket.socket, int, dict[str, str], bytes]:
    """A hand-written upgrade request; returns the socket, status, headers and any bytes after."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname or "", parts.port or 80), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.hostname}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
    if int(lines[0].split(" ")[1]) == 101:
        assert headers["sec-websocket-accept"] == accept_key(key)
    return sock, int(lines[0].split(" ")[1]), headers, rest


def read_frame(sock: socket.socket, buffer: bytes) -> tuple[int, bytes, bytes]:
    """(opcode, payload, rest) of one unmasked server frame."""
    while len(buffer) < 2:
        buffer += sock.recv(4096)
    assert not buffer[1] & 0x80, "a server frame must not be masked"
    length, start = buffer[1] & 0x7F, 2
    if length == 126:
        while len(buffer) < 4:
            buffer += sock.recv(4096)
        (length,), start = struct.unpack("!H", buffer[2:4]), 4
    while len(buffer) < start + length:
        buffer += sock.recv(4096)
    return buffer[0] & 0x0F, buffer[start : start + length], buffer[start + length :]


def test_websocket_greets_with_hello_and_refuses_a_reused_ticket(
    socket_emulator: SlackEmulator,
) -> None:
    url = WebClient(base_url=socket_emulator.api_url).apps_connections_open(app_token=APP_TOKEN)[
        "url"
    ]
    sock, status, _, rest = raw_handshake(url)
    try:
        assert status == 101
        opcode, payload, _ = read_frame(sock, rest)
        hello = json.loads(payload)
        assert opcode == 0x1
        assert hello["type"] == "hello" and hello["num_connections"] == 1
        assert hello["connection_info"] == {"app_id": APP_ID}
        assert "host" in hello["debug_info"]
        again, status_again, _, _ = raw_handshake(url)  # the ticket served its connection
        again.close()
        assert status_again == 401
    finally:
        sock.close()


def test_websocket_refuses_an_unknown_ticket(socket_emulator: SlackEmulator) -> None:
    url = WebClient(base_url=socket_emulator.api_url).apps_connections_open(app_token=APP_TOKEN)[
        "url"
    ]
    forged = url.replace("ticket=", "ticket=0")
    sock, status, _, _ = raw_handshake(forged)
    sock.close()
    assert status == 401
    assert socket_emulator.socket_connections == 0


def test_websocket_closes_with_protocol_error_on_an_unmasked_client_frame(
    socket_emulator: SlackEmulator,
) -> None:
    url = WebClient(base_url=socket_emulator.api_url).apps_connections_open(app_token=APP_TOKEN)[
        "url"
    ]
    sock, status, _, rest = raw_handshake(url)
    try:
        assert status == 101
        _, _, rest = read_frame(sock, rest)  # hello
        sock.sendall(bytes([0x81, 2]) + b"{}")  # RFC 6455 5.1: clients must mask
        opcode, payload, _ = read_frame(sock, rest)
        assert opcode == 0x8 and struct.unpack("!H", payload[:2])[0] == 1002
        wait_for(lambda: socket_emulator.socket_connections == 0)
    finally:
        sock.close()


def test_socket_mode_client_gets_hello_and_pong_for_its_ping(
    connect: Callable[..., SocketModeClient],
) -> None:
    seen: list[dict[str, Any]] = []
    client = connect(on_message_listeners=[lambda raw: seen.append(json.loads(raw))])
    wait_for(lambda: any(m.get("type") == "hello" for m in seen))
    session = client.current_session
    assert session is not None
    # the client pings right after its handshake; the pong carries its session id back
    wait_for(lambda: session.last_ping_pong_time is not None)


# ---------------------------------------------------------------------------- envelopes


def test_slash_command_goes_over_the_socket_and_ack_text_shows_as_ephemeral(
    socket_emulator: SlackEmulator, connect: Callable[..., SocketModeClient]
) -> None:
    recorder = Recorder()  # an HTTP request URL that must hear nothing
    recorder.server.start()
    socket_emulator.bot_request_url = recorder.url
    try:
        listener, seen = ack_with({"text": "Promoting to staging."})
        connect(listener)
        reply = socket_emulator.command(DEV, DEPLOYS, "/promote staging")
    finally:
        recorder.server.stop()
    assert (reply["status"], reply["via"], reply["error"]) == (200, "socket_mode", None)
    [req] = seen
    assert (req.type, req.accepts_response_payload) == ("slash_commands", True)
    assert req.payload["command"] == "/promote" and req.payload["text"] == "staging"
    assert req.payload["user_id"] == DEV and req.payload["trigger_id"] == reply["trigger_id"]
    assert req.payload["response_url"] == reply["response_url"]
    shown = [m["text"] for m in socket_emulator.ephemerals(DEV, DEPLOYS)]
    assert shown == ["Promoting to staging."]
    assert recorder.requests == []


def test_slash_command_envelope_has_slacks_fields_and_no_retry_fields(
    socket_emulator: SlackEmulator, connect: Callable[..., SocketModeClient]
) -> None:
    listener, _ = ack_with(None)
    connect(listener)
    socket_emulator.command(DEV, DEPLOYS, "/promote status")
    [envelope] = socket_emulator.socket_mode.delivered
    assert set(envelope) == {"envelope_id", "payload", "type", "accepts_response_payload"}
    assert socket_emulator.ephemerals(DEV, DEPLOYS) == []  # an empty ack shows nothing


def test_slash_command_without_an_ack_fails_as_a_timeout(clock: FakeClock) -> None:
    with make_emulator(clock, app_token=APP_TOKEN, ack_timeout=0.3) as emulator:
        silent = SocketModeClient(
            app_token=APP_TOKEN, web_client=WebClient(base_url=emulator.api_url)
        )
        try:
            silent.connect()
            wait_for(lambda: emulator.socket_connections == 1)
            reply = emulator.command(DEV, DEPLOYS, "/promote staging")
        finally:
            close_from_server(emulator, silent)
    assert (reply["status"], reply["error"], reply["via"]) == (
        None,
        "operation_timeout",
        "socket_mode",
    )
    [shown] = emulator.ephemerals(DEV, DEPLOYS)
    assert shown["text"] == '/promote failed with the error "operation_timeout"'


def test_delivery_falls_back_to_http_once_the_socket_is_closed(
    socket_emulator: SlackEmulator, connect: Callable[..., SocketModeClient]
) -> None:
    client = connect(ack_with(None)[0])
    close_from_server(socket_emulator, client)
    recorder = Recorder()
    recorder.body = "over http"
    recorder.server.start()
    socket_emulator.bot_request_url = recorder.url
    try:
        reply = socket_emulator.command(DEV, DEPLOYS, "/promote staging")
    finally:
        recorder.server.stop()
    assert (reply["via"], reply["body"]) == ("http", "over http")
    assert len(recorder.requests) == 1


def test_events_envelope_carries_the_event_callback_and_retry_fields(
    socket_emulator: SlackEmulator, connect: Callable[..., SocketModeClient]
) -> None:
    listener, seen = ack_with(None)
    connect(listener)
    reply = socket_emulator.open_home(DEV)
    assert (reply["status"], reply["via"]) == (200, "socket_mode")
    [req] = seen
    assert (req.type, req.accepts_response_payload) == ("events_api", False)
    assert (req.retry_attempt, req.retry_reason) == (0, "")
    assert req.payload["type"] == "event_callback"
    assert req.payload["event"]["type"] == "app_home_opened" and req.payload["event"]["user"] == DEV


def test_connections_take_envelopes_in_turn(
    socket_emulator: SlackEmulator, connect: Callable[..., SocketModeClient]
) -> None:
    first, first_seen = ack_with(None)
    second, second_seen = ack_with(None)
    connect(first)
    connect(second)
    assert socket_emulator.socket_connections == 2
    for _ in range(4):
        socket_emulator.command(DEV, DEPLOYS, "/promote status")
    assert (len(first_seen), len(second_seen)) == (2, 2)


# ----------------------------------------------------------------- Bolt over the socket


@pytest.fixture
def bolt_socket(socket_emulator: SlackEmulator) -> Iterator[App]:
    """A real Bolt App connected with its SocketModeHandler and no request URL at all."""
    app = make_bolt(socket_emulator)
    handler = SocketModeHandler(app, APP_TOKEN)
    handler.connect()
    wait_for(lambda: socket_emulator.socket_connections == 1)
    assert socket_emulator.bot_request_url is None
    try:
        yield app
    finally:
        close_from_server(socket_emulator, handler.client)


def test_bolt_ack_blocks_and_button_click_over_the_socket(
    socket_emulator: SlackEmulator, bolt_socket: App
) -> None:
    clicks: list[dict[str, Any]] = []

    @bolt_socket.command("/promote")
    def promote(ack: Ack, client: WebClient, command: dict[str, Any]) -> None:
        ack(blocks=card("p7"), text="card")
        client.chat_postMessage(channel=command["channel_id"], text="card", blocks=card("p7"))

    @bolt_socket.action(APPROVE)
    def approve(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        clicks.append(body)

    reply = socket_emulator.command(DEV, DEPLOYS, "/promote staging")
    assert (reply["via"], reply["ack_error"]) == ("socket_mode", None)
    [ephemeral] = socket_emulator.ephemerals(DEV, DEPLOYS)
    assert ephemeral["blocks"][0]["block_id"] == "summary"
    posted = wait_for(lambda: socket_emulator.history(DEPLOYS))
    click = socket_emulator.click(DEV, APPROVE, channel=DEPLOYS, ts=posted[0]["ts"])
    assert (click["status"], click["via"]) == (200, "socket_mode")
    wait_for(lambda: clicks)
    assert clicks[0]["actions"][0]["value"] == "p7"
    assert clicks[0]["container"]["message_ts"] == posted[0]["ts"]


def test_bolt_view_submission_response_action_applies_over_the_socket(
    socket_emulator: SlackEmulator, bolt_socket: App
) -> None:
    modal = {
        "type": "modal",
        "callback_id": "plan",
        "title": {"type": "plain_text", "text": "Plan"},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": [
            {
                "type": "input",
                "block_id": "plan",
                "label": {"type": "plain_text", "text": "Plan"},
                "element": {"type": "plain_text_input", "action_id": "text"},
            }
        ],
    }

    @bolt_socket.command("/promote")
    def promote(ack: Ack, client: WebClient, command: dict[str, Any]) -> None:
        ack()
        client.views_open(trigger_id=command["trigger_id"], view=modal)

    @bolt_socket.view("plan")
    def plan(ack: Ack, view: dict[str, Any]) -> None:
        text = view["state"]["values"]["plan"]["text"]["value"]
        if text == "nothing":
            ack(response_action="errors", errors={"plan": "Say how to roll back."})
        else:
            ack()

    socket_emulator.command(DEV, DEPLOYS, "/promote prod")
    [opened] = wait_for(lambda: socket_emulator.open_views(DEV))
    refused = socket_emulator.submit(DEV, opened["id"], {"plan": {"text": "nothing"}})
    assert (refused["via"], refused["response_action"]) == ("socket_mode", "errors")
    assert refused["errors"] == {"plan": "Say how to roll back."}
    assert len(socket_emulator.open_views(DEV)) == 1
    accepted = socket_emulator.submit(DEV, opened["id"], {"plan": {"text": "revert"}})
    assert accepted["response_action"] == "close"
    assert socket_emulator.open_views(DEV) == []


def test_client_reconnects_when_slack_asks_and_the_new_link_carries_envelopes(
    socket_emulator: SlackEmulator, connect: Callable[..., SocketModeClient]
) -> None:
    hellos: list[dict[str, Any]] = []
    listener, seen = ack_with({"text": "still here"})

    def on_message(raw: str) -> None:
        message = json.loads(raw)
        if message.get("type") == "hello":
            hellos.append(message)

    connect(listener, on_message_listeners=[on_message])
    wait_for(lambda: len(hellos) == 1)
    assert socket_emulator.socket_mode.request_reconnect() == 1
    wait_for(lambda: len(hellos) == 2)  # a new link, from a new apps.connections.open
    wait_for(lambda: socket_emulator.socket_connections == 1)  # and the old one dropped
    reply = socket_emulator.command(DEV, DEPLOYS, "/promote status")
    assert (reply["via"], reply["ack"]) == ("socket_mode", {"text": "still here"})
    assert len(seen) == 1
