"""Shared pieces of the Slack emulator tests: the workspace, a fake clock, bounded waits,
and a real slack_bolt App served over HTTP on a loopback port."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltRequest
from slack_sdk import WebClient

from sandbox.httpserver import BackgroundServer, QuietHandler
from sandbox.slack import (
    SlackChannel,
    SlackEmulator,
    SlackUser,
    SlackUserGroup,
)
from tests import waiting

SECRET = "sandbox-signing-secret"
TOKEN = "xoxb-sandbox-bot-token"
BOT = "U0BOT0001"
DEV, REVIEWER, STAKEHOLDER, OUTSIDER = "U0DEV0001", "U0REV0001", "U0STK0001", "U0OUT0001"
DEPLOYS, INCIDENTS, QUIET = "C0DEPLOYS", "C0INCIDNT", "C0QUIET01"
STAKEHOLDERS = "S0STAKEHO"
APPROVE = "promotion.approve"


def card(ts_hint: str = "p1") -> list[dict[str, Any]]:
    """A promotion card with an Approve button whose value is `ts_hint`."""
    return [
        {"type": "section", "block_id": "summary", "text": {"type": "mrkdwn", "text": "staging"}},
        {
            "type": "actions",
            "block_id": "decide",
            "elements": [
                {
                    "type": "button",
                    "action_id": APPROVE,
                    "text": {"type": "plain_text", "text": "Approve"},
                    "value": ts_hint,
                    "style": "primary",
                },
            ],
        },
    ]


class FakeClock:
    """Monotonic seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def wait_for(predicate: Callable[[], Any]) -> Any:
    """The suite's one bounded wait (tests/waiting.py)."""
    return waiting.wait_for(predicate, "the emulator or the app")


def make_emulator(clock: Callable[[], float] = time.monotonic, **kwargs: Any) -> SlackEmulator:
    return SlackEmulator(
        SECRET,
        TOKEN,
        users=[
            SlackUser(DEV, "dev", "Dana Developer"),
            SlackUser(REVIEWER, "reviewer", "Rui Reviewer"),
            SlackUser(STAKEHOLDER, "stakeholder", "Sam Stakeholder"),
            SlackUser(OUTSIDER, "outsider", "Olga Outsider"),
        ],
        channels=[
            SlackChannel(DEPLOYS, "deploys", [DEV, REVIEWER, STAKEHOLDER]),
            SlackChannel(INCIDENTS, "incidents", [DEV, REVIEWER]),
            SlackChannel(QUIET, "quiet", [DEV], bot_is_member=False),
        ],
        usergroups=[SlackUserGroup(STAKEHOLDERS, "stakeholders", [STAKEHOLDER])],
        bot_user_id=BOT,
        clock=clock,
        **kwargs,
    )


class BoltServer:
    """A real Bolt App behind a tiny http.server adapter on a loopback port."""

    def __init__(self, app: App) -> None:
        bolt = app

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                raw = self.read_body().decode("utf-8")
                headers = {k.lower(): v for k, v in self.headers.items()}
                response = bolt.dispatch(
                    BoltRequest(body=raw, query=self.path.partition("?")[2], headers=headers)
                )
                content_type = response.first_headers().get("content-type", "text/plain")
                self.send_bytes(response.status, response.body.encode(), content_type)

        self.app = app
        self.server = BackgroundServer(Handler)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()

    def record(self, kind: str, body: dict[str, Any]) -> None:
        with self.lock:
            self.calls.append((kind, body))

    def recorded(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return [body for name, body in self.calls if name == kind]

    @property
    def url(self) -> str:
        return f"{self.server.url}/slack/events"


def make_bolt(emulator: SlackEmulator, signing_secret: str = SECRET) -> App:
    return App(
        signing_secret=signing_secret,
        client=WebClient(token=TOKEN, base_url=emulator.api_url),
    )


class Recorder:
    """A stand-in app that records each signed request and answers a set (status, body)."""

    def __init__(self) -> None:
        recorder = self
        self.requests: list[tuple[dict[str, str], str]] = []
        self.status = 200
        self.body = ""
        self.delay = 0.0
        self.lock = threading.Lock()

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                raw = self.read_body().decode("utf-8")
                with recorder.lock:
                    recorder.requests.append(({k.lower(): v for k, v in self.headers.items()}, raw))
                if recorder.delay:
                    time.sleep(recorder.delay)
                try:
                    self.send_bytes(recorder.status, recorder.body.encode(), "text/plain")
                except OSError:
                    return

        self.server = BackgroundServer(Handler)

    @property
    def url(self) -> str:
        return f"{self.server.url}/slack/events"
