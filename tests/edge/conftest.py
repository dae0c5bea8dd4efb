"""The real bot (promotebot.wiring) between the emulators, for hostile input at its HTTP edge:
the observability world (webhooks on, every log line captured), requests signed as Slack and
GitHub sign them, and a way to prove that nothing happened: Redis under the bot's prefix, what
the Slack emulator shows, and the bot's own count of its GitHub and Slack calls, all unchanged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from handlers import signing
from sandbox.world import DEPLOYS, SIGNING_SECRET
from tests.e2e.conftest import DEV
from tests.observability.conftest import Observed, observed_world

FORM = "application/x-www-form-urlencoded"


def slack_headers(body: bytes, *, timestamp: str | None = None, secret: str = SIGNING_SECRET,
                  content_type: str = FORM) -> dict[str, str]:
    """Headers as Slack sends them, signed over `body` at `timestamp` (now by default)."""
    ts = timestamp if timestamp is not None else str(int(time.time()))
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signing.signature(secret, ts, body)}


def command_body(o: Observed, text: str, *, user: str = DEV, channel: str = DEPLOYS,
                 response_url: str | None = None, **fields: str) -> bytes:
    """A /promote as Slack's form, with a trigger and a response_url the emulator serves."""
    ws = o.world.slack.workspace
    url = response_url
    if url is None:
        url = f"{o.world.slack.url}/response/" + ws.issue_response_url(user, channel, None, False)
    form = {"token": "x", "team_id": "T0SANDBOX", "team_domain": "sandbox",
            "channel_id": channel, "channel_name": "myapp-deploys", "user_id": user,
            "user_name": "dana", "command": "/promote", "text": text, "api_app_id": "A0SANDBOX",
            "is_enterprise_install": "false", "response_url": url,
            "trigger_id": ws.issue_trigger(user), **fields}
    return urlencode(form).encode()


def outside_calls(o: Observed) -> dict[tuple[str, str], float]:
    """The bot's count of its calls to GitHub (forge and git) and Slack (its Web API client)."""
    found: dict[tuple[str, str], float] = {}
    for metric in o.bot.metrics.external_calls.collect():
        for sample in metric.samples:
            service = sample.labels.get("service")
            if sample.name.endswith("_total") and service in ("github", "slack"):
                found[(service, sample.labels["operation"])] = sample.value
    return found


def slack_shows(o: Observed) -> dict[str, Any]:
    state = o.world.slack.state()
    return {"messages": {c["id"]: c["messages"] for c in state["channels"]},
            "ephemerals": state["ephemerals"], "views": state["views"], "home": state["home"]}


@dataclass(frozen=True)
class Before:
    redis: dict[str, Any]
    slack: dict[str, Any]
    calls: dict[tuple[str, str], float]


def before(o: Observed) -> Before:
    return Before(o.redis_snapshot(), slack_shows(o), outside_calls(o))


def assert_nothing_happened(o: Observed, then: Before) -> None:
    assert o.redis_snapshot() == then.redis
    assert slack_shows(o) == then.slack
    assert outside_calls(o) == then.calls


@pytest.fixture
def bot(tmp_path: Path, redis_url: str) -> Iterator[Observed]:
    with observed_world(tmp_path, redis_url) as world:
        yield world


class Recorder:
    """A loopback HTTP/1.1 server (connections kept alive) that records every request and
    counts the connections it accepted; `redirect_to` makes it answer each POST with a 302
    there (where a redirect-following client would go next)."""

    def __init__(self, redirect_to: str | None = None):
        self.requests: list[tuple[str, str, bytes]] = []
        self.connections = 0
        self._lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                with recorder._lock:
                    recorder.connections += 1

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with recorder._lock:
                    recorder.requests.append((self.command, self.path, body))
                if redirect_to is not None:
                    self.send_response(302)
                    self.send_header("Location", redirect_to)
                else:
                    self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST = _record

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True  # a kept-alive connection never holds the exit
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def netloc(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"http://{self.netloc}"

    def seen(self) -> list[tuple[str, str, bytes]]:
        with self._lock:
            return list(self.requests)

    def __enter__(self) -> Recorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    with Recorder() as running:
        yield running
