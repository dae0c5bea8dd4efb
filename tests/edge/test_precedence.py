"""Acks first (slackbot/precedence.py): while a Slack request waits for its ack, the workers
start no new task, for at most the bound; the web edge marks each Slack request so. Waits
here are bounds no load exhausts; a held task is seen held, never timed."""

from __future__ import annotations

import hashlib
import hmac
import io
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

from slack_bolt import Ack, App
from slack_bolt.authorization import AuthorizeResult

from handlers.web import WebApp
from slackbot.precedence import Precedence
from slackbot.workers import Workers
from tests.waiting import wait_for

FOREVER = 600.0
SECRET = "s" * 32


def test_a_task_waits_while_a_request_is_urgent_and_starts_when_it_is_answered() -> None:
    precedence = Precedence(max_pause=FOREVER)
    workers = Workers(2, name="held", precedence=precedence)
    ran = threading.Event()
    try:
        with precedence.urgent():
            workers.submit("record-1", ran.set)
            wait_for(lambda: precedence.held == 1, timeout=FOREVER)
            assert not ran.is_set()
        assert ran.wait(FOREVER)
    finally:
        workers.stop()


def test_a_task_waits_no_longer_than_the_bound() -> None:
    precedence = Precedence(max_pause=0.0)
    workers = Workers(1, name="bounded", precedence=precedence)
    ran = threading.Event()
    try:
        with precedence.urgent():
            workers.submit("record-1", ran.set)
            assert ran.wait(FOREVER)  # requests that never stop do not stop the work
    finally:
        workers.stop()


def test_the_web_edge_marks_each_slack_request_urgent_until_it_is_answered() -> None:
    precedence = Precedence()
    seen: list[int] = []
    bolt = App(signing_secret=SECRET, authorize=lambda **_: AuthorizeResult(
        enterprise_id=None, team_id="T1", bot_token="xoxb-test", bot_user_id="U0BOT",
        bot_id="B1"))

    @bolt.command("/promote")
    def promote(ack: Ack) -> None:
        seen.append(precedence.in_flight)
        ack()

    web = WebApp(bolt, signing_secret=SECRET, precedence=precedence)
    body = urlencode({"command": "/promote", "text": "status", "user_id": "U1",
                      "channel_id": "C1", "team_id": "T1", "trigger_id": "1.2.3"}).encode()
    ts = str(int(time.time()))
    signature = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + body,
                                 hashlib.sha256).hexdigest()
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
        "HTTP_X_SLACK_REQUEST_TIMESTAMP": ts, "HTTP_X_SLACK_SIGNATURE": signature}
    setup_testing_defaults(environ)
    status: list[str] = []

    def start_response(line: str, headers: list[tuple[str, str]],
                       exc_info: object = None) -> Callable[[bytes], object]:
        status.append(line)
        return lambda _: None

    b"".join(web(environ, start_response))
    assert status[0].startswith("200")
    assert seen == [1]
    assert precedence.in_flight == 0
