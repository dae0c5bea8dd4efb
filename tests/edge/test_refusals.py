"""The real bot refuses junk at its HTTP edge before any work, never with a 5xx: over real HTTP,
each refusal is asserted with its status, and with nothing happened (Redis under the bot's
prefix, the Slack emulator, the bot's GitHub and Slack calls: all unchanged)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from handlers.web import MAX_BODY_BYTES
from sandbox.world import DEPLOYS
from slackbot import webhooks
from tests.e2e.conftest import DEV, wait_for
from tests.edge.conftest import (
    FORM,
    Recorder,
    assert_nothing_happened,
    before,
    command_body,
    slack_headers,
)
from tests.edge.fuzz import Wire
from tests.observability.conftest import WEBHOOK_SECRET, Observed, observed_world


def _warnings(o: Observed, start: str) -> list[str]:
    return [line["message"] for line in o.log_lines()
            if line["level"] == "WARNING" and line["message"].startswith(start)]


def test_a_malformed_missing_or_stale_timestamp_is_a_401_and_nothing_happens(
        bot: Observed) -> None:
    o = bot
    body = command_body(o, "status")
    now = int(time.time())
    malformed = ["abc", "12.5", "1e9", "0x10", "-5", f"{now}.0", f"+{now}", "9" * 30,
                 f"{now}, {now}"]  # the header twice: waitress joins the values
    stale = [str(now - 400), str(now + 400), "0"]  # 100 s of margin for a slow machine
    wire = Wire(o.bot.url)
    then = before(o)
    for ts in malformed + stale:
        headers = slack_headers(body, timestamp=ts)  # signed over the timestamp it carries
        status, answer = wire.send("POST", "/slack/events", body, list(headers.items()))
        assert (status, json.loads(answer)) == (401, {"error": "invalid request"}), ts
    arabic_digits = "١٢٣".encode()  # int() would read them; a header of bytes, as sent
    headers = slack_headers(body)
    for value in (b"", arabic_digits, None):
        sent = [(k, v) for k, v in headers.items() if k != "X-Slack-Request-Timestamp"]
        if value is not None:
            sent.append(("X-Slack-Request-Timestamp", value))
        assert wire.send("POST", "/slack/events", body, sent)[0] == 401
    assert_nothing_happened(o, then)
    said = _warnings(o, "401 for POST /slack/events")
    assert len(said) == len(malformed) + len(stale) + 3
    assert sum("not a whole number" in m for m in said) == len(malformed) + 1
    assert sum("more than five minutes" in m for m in said) == len(stale)
    assert sum("is missing" in m for m in said) == 2


def test_the_signature_is_checked_before_the_body_is_read(bot: Observed) -> None:
    """Bodies Bolt's parser fails on (it parses before it verifies): unsigned or missigned they
    are 401s like any forgery; signed, they are 400s. Never a 500."""
    o = bot
    json_ = "application/json"
    unreadable = [(b"\xff\xfe\x00", FORM), (b'{"type": "block_actions", "actions": [', FORM),
                  (b"payload=%7B", FORM), (b"payload=%5B1%5D", FORM), (b"[1, 2]", json_),
                  (b'"just a string"', json_), ("caf\xe9".encode("latin-1"), FORM)]
    then = before(o)
    for body, kind in unreadable:
        assert o.post("/slack/events", body, {"Content-Type": kind})[0] == 401, body
        wrong = slack_headers(body, secret="not the signing secret", content_type=kind)
        assert o.post("/slack/events", body, wrong)[0] == 401, body
        status, answer = o.post("/slack/events", body, slack_headers(body, content_type=kind))
        assert (status, json.loads(answer)) == (400, {"error": "the body cannot be read"}), body
    assert_nothing_happened(o, then)
    assert len(_warnings(o, "400 for POST /slack/events: a signed body that cannot be read")) \
        == len(unreadable)


SIGNED_JUNK = [
    # what used to be a 500: Bolt's matchers and our middleware index into these fields
    {"type": "block_actions", "actions": "x"},
    {"type": "block_actions", "actions": []},
    {"type": "block_actions", "actions": [None], "user": {"id": DEV}},
    {"type": "block_actions", "user": "U0DEV", "actions": [{"action_id": "promotion.approve"}]},
    {"type": "view_submission", "view": "x"},
    {"type": "view_submission", "view": {"callback_id": 1}},
    {"type": "view_submission", "view": {"callback_id": "promotion.reject_reason"}},
    {"type": "view_submission", "view": {"type": "modal", "callback_id": "x",
                                         "state": {"values": {"b": ["not", "an", "object"]}}}},
    {"type": "view_closed", "view": 7},
    {"type": [], "team": {"id": "T0SANDBOX"}},
    {"type": "shortcut", "team": "T0SANDBOX"},
    {"type": "block_actions", "actions": [{"action_id": {"nested": "junk"}}]},
]
SIGNED_JUNK_EVENTS = [
    {"type": "event_callback", "event_id": "Ev1", "event": []},
    {"type": "event_callback", "event_id": "Ev2", "event": None},
    {"type": "event_callback", "event_id": "Ev3", "event": "app_home_opened"},
    {"type": "event_callback", "event_id": "Ev4", "event": {"user": DEV}},
    {"type": "event_callback", "event_id": "Ev5",
     "event": {"type": "app_home_opened", "user": {"id": DEV}, "tab": "home"}},
]


def test_signed_bodies_of_the_wrong_shape_are_400s_and_nothing_happens(bot: Observed) -> None:
    o = bot
    then = before(o)
    for payload in SIGNED_JUNK:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        status, answer = o.post("/slack/events", body, slack_headers(body))
        assert (status, json.loads(answer)) == (400, {"error": "the body cannot be read"}), \
            payload
    for event in SIGNED_JUNK_EVENTS:
        body = json.dumps({"token": "x", "team_id": "T0SANDBOX", **event}).encode()
        headers = slack_headers(body, content_type="application/json")
        assert o.post("/slack/events", body, headers)[0] == 400, event
    assert_nothing_happened(o, then)


def test_a_body_over_the_limit_is_a_413_on_both_endpoints_before_it_is_read(
        bot: Observed) -> None:
    o = bot
    wire = Wire(o.bot.url)
    over = b"text=" + b"a" * (MAX_BODY_BYTES - 4)  # one byte over
    then = before(o)
    status, answer = wire.send("POST", "/slack/events", over, list(slack_headers(over).items()))
    assert (status, json.loads(answer)) == (
        413, {"error": f"the body is over {MAX_BODY_BYTES} bytes"})
    hook = [("Content-Type", "application/json"), ("X-GitHub-Event", "pull_request"),
            ("X-GitHub-Delivery", "d-over-1"),
            ("X-Hub-Signature-256", webhooks.signature(WEBHOOK_SECRET, over))]
    status, answer = wire.send("POST", "/github/webhook", over, hook)
    assert (status, json.loads(answer)) == (413, {"error": "payload too large"})
    for path in ("/slack/events", "/github/webhook"):  # 10 GB announced: refused unread
        status, _ = wire.send("POST", path, b"", [("Content-Type", "application/json"),
                                                  ("Content-Length", str(10**10))],
                              content_length=False)
        assert status == 413
    at_limit = b"text=" + b"a" * (MAX_BODY_BYTES - 5)  # exactly the limit: read, then judged
    status, _ = wire.send("POST", "/slack/events", at_limit,
                          list(slack_headers(at_limit).items()))
    assert status == 404  # a form without a command: Bolt has no listener for it
    assert_nothing_happened(o, then)
    assert len(_warnings(o, "413 for POST")) == 2


def _status_command(o: Observed, response_url: str) -> bytes:
    return command_body(o, "status", response_url=response_url)


def test_a_response_url_off_slacks_hooks_host_is_refused_before_any_work(
        bot: Observed, recorder: Recorder) -> None:
    o = bot
    github = urlsplit(o.world.github.url).netloc
    emulator = urlsplit(o.world.slack.url)
    elsewhere = [
        f"{recorder.url}/hooks",
        f"http://{github}/repos/acme/myapp/merges",  # another service on this host
        f"http://{emulator.hostname}:{(emulator.port or 0) + 1}/response/1",
        "https://hooks.slack.com.evil.example/commands/T0/1/x",
        "http://hooks.slack.com/commands/T0/1/x",  # Slack's host, but not over TLS
        "https://hooks.slack.com@evil.example/commands/x",
        "https://hooks.slack.com:8443/commands/x",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "",
    ]
    then = before(o)
    for url in elsewhere:
        body = _status_command(o, url)
        status, answer = o.post("/slack/events", body, slack_headers(body))
        assert (status, json.loads(answer)) == (400, {"error": "response_url is not Slack's"}), url
    modal = {"type": "view_submission", "user": {"id": DEV}, "team": {"id": "T0SANDBOX"},
             "view": {"type": "modal", "callback_id": "promotion.reject_reason", "state": {}},
             "response_urls": [{"response_url": f"{recorder.url}/modal", "channel_id": DEPLOYS}]}
    body = urlencode({"payload": json.dumps(modal)}).encode()
    assert o.post("/slack/events", body, slack_headers(body))[0] == 400
    assert recorder.seen() == []
    assert_nothing_happened(o, then)
    assert len(_warnings(o, "400 for POST /slack/events: a response_url")) == len(elsewhere) + 1


def test_the_sandboxs_own_response_url_is_answered(bot: Observed) -> None:
    o = bot
    ws = o.world.slack.workspace
    url_id = ws.issue_response_url(DEV, DEPLOYS, None, False)
    body = _status_command(o, f"{o.world.slack.url}/response/{url_id}")
    status, answer = o.post("/slack/events", body, slack_headers(body))
    assert (status, answer) == (200, b"")  # an empty ack: the one answer goes to response_url
    wait_for(lambda: ws.response_urls[url_id].uses == 1, "the status posted to the response_url")


def test_a_redirect_from_an_allowed_response_url_is_not_followed(
        tmp_path: Path, redis_url: str) -> None:
    """The setting lets the bot post to the redirector; its 302 (to a host the bot must never
    reach) is logged and not followed."""
    with Recorder() as target, Recorder(redirect_to=f"{target.url}/stolen") as redirector:
        extra = {"SLACK_RESPONSE_URL_HOSTS": redirector.netloc}
        with observed_world(tmp_path, redis_url, extra) as o:
            body = _status_command(o, f"{redirector.url}/hooks/1")
            status, _ = o.post("/slack/events", body, slack_headers(body))
            assert status == 200
            wait_for(lambda: _warnings(o, f"response_url {redirector.url} answered 302"),
                     "the bot to meet the redirect")
            assert [(m, p) for m, p, _ in redirector.seen()] == [("POST", "/hooks/1")]
            assert target.seen() == []
