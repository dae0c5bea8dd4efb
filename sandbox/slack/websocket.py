"""The server side of RFC 6455 over a plain socket: the upgrade handshake and frames.

Just what Slack's Socket Mode needs on loopback: text, close, ping and pong frames, masked
from the client (unmasked frames are refused, RFC 6455 5.1), continuation frames joined, no
extensions. It owns bytes on one socket only: tickets, envelopes and acks live in socketmode.py.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import struct
import threading
from dataclasses import dataclass

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA
CLOSE_NORMAL, CLOSE_GOING_AWAY, CLOSE_PROTOCOL_ERROR, CLOSE_TOO_BIG = 1000, 1001, 1002, 1009
MAX_HANDSHAKE = 8192
MAX_MESSAGE = 1 << 20  # an ack is small; anything over 1 MiB is refused with 1009


class ProtocolError(Exception):
    """The peer broke RFC 6455; `code` is the close code to send."""

    def __init__(self, reason: str, code: int = CLOSE_PROTOCOL_ERROR) -> None:
        super().__init__(reason)
        self.code = code


@dataclass(frozen=True)
class Upgrade:
    """A parsed HTTP upgrade request: the target (path and query) and lower-cased headers."""

    target: str
    headers: dict[str, str]


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def read_upgrade(sock: socket.socket) -> Upgrade:
    """Reads the HTTP request head; raises ProtocolError if it is not a websocket upgrade."""
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1024)
        if not chunk:
            raise ProtocolError("connection closed during the handshake")
        head += chunk
        if len(head) > MAX_HANDSHAKE:
            raise ProtocolError("handshake too large")
    lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[0] != "GET" or not parts[2].startswith("HTTP/1.1"):
        raise ProtocolError("not a GET HTTP/1.1 request")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    if (
        headers.get("upgrade", "").lower() != "websocket"
        or "upgrade" not in headers.get("connection", "").lower()
        or headers.get("sec-websocket-version") != "13"
        or not headers.get("sec-websocket-key")
    ):
        raise ProtocolError("not a websocket upgrade")
    return Upgrade(parts[1], headers)


def switching_protocols(key: str) -> bytes:
    return (
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n"
    ).encode()


def refusal(status: int, reason: str) -> bytes:
    body = reason.encode()
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """One final, unmasked frame (a server never masks, RFC 6455 5.1)."""
    length = len(payload)
    if length <= 125:
        header = struct.pack("!BB", 0x80 | opcode, length)
    elif length <= 0xFFFF:
        header = struct.pack("!BBH", 0x80 | opcode, 126, length)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, length)
    return header + payload


class FrameReader:
    """Reads whole messages from a client socket: (opcode, payload), continuations joined."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = b""

    def _take(self, size: int) -> bytes:
        while len(self._buffer) < size:
            chunk = self._sock.recv(max(4096, size - len(self._buffer)))
            if not chunk:
                raise ConnectionError("closed by the peer")
            self._buffer += chunk
        taken, self._buffer = self._buffer[:size], self._buffer[size:]
        return taken

    def _frame(self) -> tuple[bool, int, bytes]:
        first, second = self._take(2)
        if first & 0x70:
            raise ProtocolError("reserved bits set without an extension")
        fin, opcode = bool(first & 0x80), first & 0x0F
        if not second & 0x80:
            raise ProtocolError("client frame not masked")
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self._take(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._take(8))
        if opcode >= OP_CLOSE and (length > 125 or not fin):
            raise ProtocolError("control frame too long or fragmented")
        if length > MAX_MESSAGE:
            raise ProtocolError("message too big", CLOSE_TOO_BIG)
        mask = self._take(4)
        data = self._take(length)
        return fin, opcode, bytes(b ^ mask[i % 4] for i, b in enumerate(data))

    def read(self) -> tuple[int, bytes]:
        """The next message; control frames come back at once, even between fragments."""
        parts: list[bytes] = []
        started: int | None = None
        while True:
            fin, opcode, data = self._frame()
            if opcode >= OP_CLOSE:
                return opcode, data
            if opcode == OP_CONTINUATION:
                if started is None:
                    raise ProtocolError("continuation without a first frame")
            elif started is not None:
                raise ProtocolError("new message inside a fragmented one")
            else:
                started = opcode
            parts.append(data)
            if sum(len(p) for p in parts) > MAX_MESSAGE:
                raise ProtocolError("message too big", CLOSE_TOO_BIG)
            if fin:
                return started, b"".join(parts)


class FrameWriter:
    """Sends frames on a socket; one lock, so that frames from several threads never interleave."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._lock = threading.Lock()

    def send(self, opcode: int, payload: bytes) -> None:
        with self._lock:
            self._sock.sendall(encode_frame(opcode, payload))

    def close(self, code: int, reason: str = "") -> None:
        self.send(OP_CLOSE, struct.pack("!H", code) + reason.encode()[:120])
