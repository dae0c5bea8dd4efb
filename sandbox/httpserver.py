"""A small threaded HTTP server base shared by the emulators.

Every emulator is a real HTTP/1.1 server on a loopback port (port 0 unless told otherwise),
run in a daemon thread, started and stopped by its owner. This module owns only the
plumbing: binding, the thread, shutdown, the emulator's start/stop/`with`/url, reading bodies
and writing JSON; each emulator owns its routes and its semantics.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that speaks HTTP/1.1, keeps quiet, and has JSON helpers."""

    protocol_version = "HTTP/1.1"
    server_version = "promotebot-sandbox"

    def log_message(self, format: str, *args: Any) -> None:  # the stdlib's signature
        return

    def parse_request(self) -> bool:
        # A stopped server answers nothing more, also on connections kept alive from before
        # (a client then sees the connection drop and a new one refused, as with a real outage).
        if getattr(self.server, "stopping", False):
            self.close_connection = True
            return False
        return super().parse_request()

    @property
    def path_only(self) -> str:
        return urlsplit(self.path).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query, keep_blank_values=True)

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send_bytes(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self.send_bytes(status, json.dumps(payload).encode(), "application/json", headers)


class BackgroundServer:
    """Runs a ThreadingHTTPServer in a daemon thread; use as a context manager or start/stop."""

    def __init__(
        self, handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1", port: int = 0
    ):
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def httpd(self) -> ThreadingHTTPServer:
        return self._server

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = self._server.server_address[0]  # typed str | bytes; an AF_INET server's is str
        if isinstance(host, bytes):
            host = host.decode()
        return f"http://{host}:{self.port}"

    def start(self) -> BackgroundServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stopping = True  # type: ignore[attr-defined]
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class HttpEmulator:
    """An emulator served by one BackgroundServer: start/stop (or `with`), its url and port.

    A subclass sets `_server` and extends start/stop with its own parts, calling super().
    """

    _server: BackgroundServer

    def start(self) -> Self:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def port(self) -> int:
        return self._server.port
