"""Seeded hostile input for the bot's HTTP edge, and a raw HTTP client that sends what urllib
would not (a header twice, any bytes, a Content-Length with no body behind it).

Everything is drawn from one `random.Random(seed)`, so a run is the same inputs in the same
order every time; only the timestamps and the emulator's ids differ between runs.
"""

from __future__ import annotations

import http.client
import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from handlers import ids, signing
from slackbot import webhooks

Headers = list[tuple[str, str | bytes]]

# What a reply must never carry verbatim from its input: each pings or links someone.
CONTROL_SEQUENCES = ("<!channel", "<!here", "<!everyone", "<!subteam", "<!date", "<@U0FUZZ",
                     "<#C0FUZZ", "<http://evil", "<mailto:")
MRKDWN = ("<!channel>", "<!here>", "<!everyone>", "<!channel|x>", "<@U0FUZZ1>", "<@U0FUZZ2|bob>",
          "<#C0FUZZ1>", "<#C0FUZZ1|general>", "<!subteam^S0FUZZ1>", "<!date^1392734382^{date}|x>",
          "<http://evil.example|click here>", "<mailto:a@evil.example|mail>", "&lt;", "&gt;",
          "&amp;", "&lt;!channel&gt;", "*bold*", "_it_", "~gone~", "`code`", "```block```",
          ">quote", "<", ">", "&", "<<!here>>", "<!here", "@channel", "@here")
CONTROL = ("\n", "\r", "\r\n", "\t", "\x00", "\x07", "\x08", "\x1b[31m", "\x1b[2J", "\x1b]0;x\x07",
           "\x7f", "\x85", "\u2028", "\u2029", "\u202e", "\u200b", "\ufeff", "\x9b31m")
WORDS = ("help", "status", "freeze", "unfreeze", "unlock", "cancel", "from", "to", "emergency",
         "dev", "staging", "prod", "myapp", "#1", "#0", "#-1", "#99999999999999999999", "0",
         "-h", "--help", "?", "promote", "start", "main", "hotfix/x", "../..", "'", '"', ";",
         "$(id)", "%s", "%(x)s", "{}", "{0}", "null", "NaN", "\\", "/", "//", "é", "ß", "Ω",
         "日本", "🚀", "👩‍💻", "e\u0301", "\u05e9\u05dc\u05d5\u05dd",
         "\uff53\uff54\uff41\uff47\uff49\uff4e\uff47")  # the last: "staging" in full width
JUNK_APP = "nosuchapp"


def junk(rng: random.Random, depth: int = 0) -> Any:
    """A JSON value of any type, shape and size (bounded)."""
    roll = rng.randrange(14 if depth < 3 else 9)
    if roll == 0:
        return None
    if roll == 1:
        return rng.choice((True, False))
    if roll == 2:
        return rng.choice((0, -1, 1, 2**31, 2**63, 10**30, -(10**30)))
    if roll == 3:
        return rng.choice((0.5, -1e308, 1e308, 12.5))
    if roll == 4:
        return ""
    if roll in (5, 6, 7, 8):
        return text(rng)
    if roll in (9, 10):
        return [junk(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {text(rng, words=1): junk(rng, depth + 1) for _ in range(rng.randrange(4))}


def word(rng: random.Random) -> str:
    roll = rng.randrange(10)
    if roll < 3:
        return rng.choice(WORDS)
    if roll < 6:
        return rng.choice(MRKDWN)
    if roll < 8:
        return rng.choice(WORDS) + rng.choice(CONTROL) + rng.choice(MRKDWN)
    if roll == 8:
        return rng.choice("ab<>&!@#") * rng.choice((64, 300, 1000, 3000))
    return "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(1, 12)))


def text(rng: random.Random, words: int | None = None) -> str:
    count = words if words is not None else rng.randrange(0, 7)
    parts = [word(rng) for _ in range(count)]
    return rng.choice((" ", "  ", "\t", "\n", " \u00a0")).join(parts)


def command_text(rng: random.Random, command: str) -> str:
    """A command text that is junk or a refusal, never an order that would do real work: an
    env as first word always comes with an app that does not exist, and /rollback and
    /hotfix never start with an env or a subcommand."""
    value = text(rng)
    first = value.split()[0] if value.split() else ""
    if command == ids.COMMAND and first.lower() in ("dev", "staging", "prod", "cancel"):
        value = f"{first} {JUNK_APP} {value[len(first):]}"
    elif command != ids.COMMAND and first.lower() in ("dev", "staging", "prod", "start",
                                                      "promote"):
        value = "x" + value
    return value


# -- the wire ---------------------------------------------------------------------------------


class Wire:
    """HTTP/1.1 over one keep-alive connection, reopened when the server closes it."""

    def __init__(self, base_url: str, timeout: float = 10.0):
        parts = urlsplit(base_url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def send(self, method: str, path: str, body: bytes, headers: Headers,
             content_length: bool = True) -> tuple[int, bytes]:
        for attempt in (1, 2):
            conn = self._conn or http.client.HTTPConnection(self._host, self._port,
                                                           timeout=self._timeout)
            self._conn = conn
            try:
                conn.putrequest(method, path, skip_accept_encoding=True)
                for name, value in headers:
                    conn.putheader(name, value)
                if content_length:
                    conn.putheader("Content-Length", str(len(body)))
                conn.endheaders(body if body else None)
                response = conn.getresponse()
                data = response.read()
                if response.will_close:
                    self.close()
                return response.status, data
            except (ConnectionError, http.client.HTTPException, TimeoutError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


# -- inputs -----------------------------------------------------------------------------------


@dataclass
class Input:
    kind: str
    method: str
    path: str
    body: bytes
    headers: Headers
    content_length: bool = True
    replies: bool = False  # a command: its ack and response_url answers are checked for echoes
    text: str = ""  # a command's text


@dataclass
class Slack:
    """What a generator needs of the world: the signing secret, a clock, and the emulator's
    triggers and response URLs (so a command's answer lands where the test can read it)."""

    secret: str
    webhook_secret: str
    issue: Callable[[str, str], tuple[str, str, str]]  # (user, channel) -> trigger, url, url id
    users: tuple[str, ...]
    channels: tuple[str, ...]
    now: Callable[[], float] = time.time


def signed_headers(slack: Slack, body: bytes, content_type: str = "application/x-www-form-"
                   "urlencoded") -> Headers:
    ts = str(int(slack.now()))
    return [("Content-Type", content_type), ("X-Slack-Request-Timestamp", ts),
            ("X-Slack-Signature", signing.signature(slack.secret, ts, body))]


def command_fields(slack: Slack, rng: random.Random, command: str, text_: str
                   ) -> tuple[dict[str, str], str]:
    user, channel = rng.choice(slack.users), rng.choice(slack.channels)
    trigger, url, url_id = slack.issue(user, channel)
    return {"token": "x", "team_id": "T0SANDBOX", "team_domain": "sandbox",
            "channel_id": channel, "channel_name": "deploys", "user_id": user,
            "user_name": user.lower(), "command": command, "text": text_,
            "api_app_id": "A0SANDBOX", "is_enterprise_install": "false",
            "response_url": url, "trigger_id": trigger}, url_id


def commands(slack: Slack, rng: random.Random, count: int) -> Iterator[Input]:
    """Signed slash commands whose texts are junk: control characters, mrkdwn, long words."""
    for n in range(count):
        command = ids.COMMAND if n % 5 else rng.choice((ids.ROLLBACK_COMMAND, ids.HOTFIX_COMMAND))
        typed = command_text(rng, command)
        fields, _ = command_fields(slack, rng, command, typed)
        body = urlencode(fields).encode()
        yield Input(f"command {command}", "POST", "/slack/events", body,
                    signed_headers(slack, body), replies=True, text=typed)


def _base_command(slack: Slack, rng: random.Random) -> bytes:
    """A real command whose answer is in its ack (help: no outside call behind it)."""
    fields, _ = command_fields(slack, rng, ids.COMMAND, "help")
    return urlencode(fields).encode()


def bad_headers(slack: Slack, rng: random.Random, count: int) -> Iterator[Input]:
    """A real command body with missing, malformed, stale, duplicated or wrong headers."""
    for _ in range(count):
        body = _base_command(slack, rng)
        now = int(slack.now())
        good_ts = str(now)
        good_sig = signing.signature(slack.secret, good_ts, body)
        form = ("Content-Type", "application/x-www-form-urlencoded")
        ts_value = rng.choice(("abc", "12.5", "", " ", "-1", "0", "1e9", "0x10", str(now) + " ",
                               " " + str(now), "9" * 30, "١٢٣", str(now - 301), str(now + 301),
                               str(now - 10**7), str(now + 10**7), f"{now}.0", f"+{now}",
                               f"{now},{now}", "\u00a0" + str(now)))
        choice = rng.randrange(8)
        headers: Headers
        if choice == 0:  # malformed, stale or far-future timestamp, signed over it
            sig = signing.signature(slack.secret, ts_value.strip(), body)
            headers = [form, ("X-Slack-Request-Timestamp", ts_value), ("X-Slack-Signature", sig)]
            kind = "timestamp malformed or stale"
        elif choice == 1:
            headers = [form, ("X-Slack-Signature", good_sig)]
            kind = "timestamp missing"
        elif choice == 2:
            headers = [form, ("X-Slack-Request-Timestamp", good_ts)]
            kind = "signature missing"
        elif choice == 3:
            sig = rng.choice(("", "v0=", "v0=zz", "v1=" + good_sig[3:], good_sig.upper(),
                              good_sig + " ", good_sig[:-1], "v0=" + "0" * 64,
                              signing.signature("another secret", good_ts, body),
                              signing.signature(slack.secret, good_ts, body + b"x"),
                              good_sig + "," + good_sig))
            headers = [form, ("X-Slack-Request-Timestamp", good_ts), ("X-Slack-Signature", sig)]
            kind = "signature wrong"
        elif choice == 4:  # the same header twice (waitress joins them with a comma)
            twice = rng.choice(("X-Slack-Request-Timestamp", "X-Slack-Signature"))
            headers = [form, ("X-Slack-Request-Timestamp", good_ts),
                       ("X-Slack-Signature", good_sig), (twice, good_ts if "Time" in twice
                                                         else good_sig)]
            kind = "header duplicated"
        elif choice == 5:  # huge or binary header values
            headers = [form, ("X-Slack-Request-Timestamp",
                              rng.choice(("1" * 8000, good_ts))),
                       ("X-Slack-Signature", rng.choice(("v0=" + "a" * 8000,
                                                         "v0=\xff\xfe".encode("latin-1"))))]
            kind = "header huge or binary"
        elif choice == 6:  # no headers at all, any content type
            headers = [("Content-Type", rng.choice(("text/plain", "application/json", "",
                                                    "multipart/form-data; boundary=x")))]
            kind = "unsigned"
        else:  # signed, then the body changed
            headers = [form, ("X-Slack-Request-Timestamp", good_ts),
                       ("X-Slack-Signature", good_sig)]
            body = body.replace(b"text=help", b"text=" + quote(text(rng)).encode())
            kind = "body changed after signing"
        yield Input(kind, "POST", "/slack/events", body, headers)


def _templates(slack: Slack, rng: random.Random) -> list[dict[str, Any]]:
    """Real shapes of what Slack sends, to be broken one field at a time."""
    user, channel = rng.choice(slack.users), rng.choice(slack.channels)
    trigger, url, _ = slack.issue(user, channel)
    who = {"id": user, "username": "u", "name": "u", "team_id": "T0SANDBOX"}
    team = {"id": "T0SANDBOX", "domain": "sandbox"}
    value = json.dumps({"id": rng.randrange(1, 4), "sha": "0" * 40})
    meta = json.dumps({"id": rng.randrange(1, 4), "channel": channel, "ts": "1.000001"})
    view = {"id": "V0FUZZ", "team_id": "T0SANDBOX", "type": "modal",
            "callback_id": rng.choice((ids.REJECT_VIEW, ids.PLAN_VIEW, ids.ROLLBACK_VIEW)),
            "private_metadata": meta, "hash": "1.x", "blocks": [],
            "state": {"values": {ids.REASON_BLOCK: {ids.REASON_INPUT: {
                "type": "plain_text_input", "value": text(rng)}}}}}
    return [
        {"type": "block_actions", "user": who, "api_app_id": "A0SANDBOX", "token": "x",
         "trigger_id": trigger, "team": team, "enterprise": None,
         "container": {"type": "message", "message_ts": "1.000001", "channel_id": channel,
                       "is_ephemeral": False},
         "channel": {"id": channel, "name": "deploys"}, "response_url": url,
         "message": {"ts": "1.000001", "text": "card", "blocks": []},
         "state": {"values": {}},
         "actions": [{"type": "button", "action_id": rng.choice(ids.CARD_ACTIONS),
                      "block_id": ids.CARD_ACTIONS_BLOCK, "value": value,
                      "action_ts": f"{slack.now():.6f}", "text": {"type": "plain_text",
                                                                  "text": "x"}}]},
        {"type": "view_submission", "team": team, "user": who, "api_app_id": "A0SANDBOX",
         "token": "x", "trigger_id": trigger, "view": view, "response_urls": []},
        {"type": "view_closed", "team": team, "user": who, "api_app_id": "A0SANDBOX",
         "token": "x", "view": view, "is_cleared": False},
        {"token": "x", "team_id": "T0SANDBOX", "api_app_id": "A0SANDBOX",
         "type": "event_callback", "event_id": f"Ev{rng.randrange(10**9)}",
         "event_time": int(slack.now()),
         "event": {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home",
                   "event_ts": f"{slack.now():.6f}"}},
        {"type": "url_verification", "token": "x", "challenge": "c" * 20},
        {"type": "shortcut", "callback_id": "x", "trigger_id": trigger, "user": who,
         "team": team, "token": "x"},
    ]


def _break(rng: random.Random, value: Any, depth: int = 0) -> Any:
    """The value with one field (at any depth) replaced by junk, or removed."""
    if isinstance(value, dict) and value and (depth == 0 or rng.random() < 0.7):
        key = rng.choice(list(value))
        copy = dict(value)
        roll = rng.random()
        if roll < 0.15:
            del copy[key]
        elif roll < 0.55:
            copy[key] = _break(rng, copy[key], depth + 1)
        else:
            copy[key] = junk(rng)
        return copy
    if isinstance(value, list) and value and rng.random() < 0.7:
        copy = list(value)
        at = rng.randrange(len(copy))
        copy[at] = _break(rng, copy[at], depth + 1) if rng.random() < 0.6 else junk(rng)
        return copy
    return junk(rng)


def signed_junk(slack: Slack, rng: random.Random, count: int) -> Iterator[Input]:
    """Bodies that verify but are junk: Slack's shapes with fields broken, bodies cut short,
    bytes that are not UTF-8, JSON where a form is expected and back, broken payload=."""
    for _ in range(count):
        choice = rng.randrange(10)
        content_type = "application/x-www-form-urlencoded"
        if choice <= 3:  # a real interaction or event with a field (or a few) broken
            payload = rng.choice(_templates(slack, rng))
            for _ in range(rng.randrange(1, 4)):
                payload = _break(rng, payload)
            if isinstance(payload, dict) and payload.get("type") in ("event_callback",
                                                                      "url_verification"):
                body = json.dumps(payload).encode()
                content_type = "application/json"
            else:
                body = urlencode({"payload": json.dumps(payload)}).encode()
            kind = "signed shape broken"
        elif choice == 4:  # a form command with nested, duplicated or missing fields
            fields, _ = command_fields(slack, rng, ids.COMMAND, text(rng))
            pairs = list(fields.items())
            for _ in range(rng.randrange(1, 4)):
                roll = rng.randrange(4)
                if roll == 0 and pairs:
                    pairs.pop(rng.randrange(len(pairs)))
                elif roll == 1 and pairs:
                    pairs.append(rng.choice(pairs))
                elif roll == 2:
                    name = rng.choice(("text[]", "user_id[id]", "command[0]", "payload",
                                       "channel_id[]", "", "=", "&"))
                    pairs.append((name, json.dumps(junk(rng))))
                elif pairs:
                    at = rng.randrange(len(pairs))
                    pairs[at] = (pairs[at][0], json.dumps(junk(rng)))
            body = urlencode(pairs).encode()
            kind = "signed form fields junk"
        elif choice == 5:  # payload= with JSON that is broken or not an object
            inner = rng.choice(("{", "[]", '"x"', "1", "null", "{\"type\":", "{}", "{" * 500,
                                '{"type":"block_actions","actions":"x"}',
                                '{"type":"block_actions","actions":[]}',
                                '{"type":"block_actions","actions":[null]}',
                                '{"type":"view_submission","view":"x"}',
                                '{"type":"view_submission","view":{"callback_id":1}}',
                                json.dumps(junk(rng)), "\ud800"))
            body = b"payload=" + quote(inner.encode("utf-8", "surrogatepass"), safe="").encode()
            kind = "signed payload= broken"
        elif choice == 6:  # cut short
            full = rng.choice((_base_command(slack, rng),
                               urlencode({"payload": json.dumps(
                                   rng.choice(_templates(slack, rng)))}).encode()))
            body = full[: rng.randrange(len(full))]
            kind = "signed body truncated"
        elif choice == 7:  # not UTF-8
            body = rng.choice((bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))),
                               "text=caf\xe9&command=/promote".encode("latin-1"),
                               b"payload=%FF%FE", b"\xff\xfe{\x00}\x00",
                               "{\"type\":\"x\"}".encode("utf-16")))
            kind = "signed body not UTF-8"
        elif choice == 8:  # JSON bodies: as JSON, or sent as a form
            body = json.dumps(rng.choice((junk(rng), [1, 2], "x", 1, None,
                                          rng.choice(_templates(slack, rng))))).encode()
            content_type = rng.choice(("application/json", "application/x-www-form-urlencoded",
                                       "text/plain", ""))
            kind = "signed JSON, any content type"
        else:  # content types that lie
            body = _base_command(slack, rng)
            content_type = rng.choice(("application/json", "text/plain", "multipart/form-data",
                                       "application/json; charset=utf-16", "", "x/y; a=\"",
                                       "application/x-www-form-urlencoded; charset=latin-1"))
            kind = "signed form, wrong content type"
        yield Input(kind, "POST", "/slack/events", body,
                    signed_headers(slack, body, content_type))


def oversized(slack: Slack, limit: int) -> Iterator[Input]:
    """Bodies just over the limit, far over it, and a Content-Length with nothing behind it."""
    for size in (limit + 1, limit + 4096, 2 * limit - 1):
        body = b"text=" + b"a" * (size - 5)
        yield Input("body over the limit", "POST", "/slack/events", body,
                    signed_headers(slack, body))
        yield Input("webhook body over the limit", "POST", "/github/webhook", body,
                    github_headers(slack, body))
    for path in ("/slack/events", "/github/webhook"):
        yield Input("Content-Length of 10 GB, no body", "POST", path, b"",
                    [("Content-Type", "application/json"), ("Content-Length", str(10**10))],
                    content_length=False)


def github_headers(slack: Slack, body: bytes, event: str = "pull_request",
                   delivery: str | None = None) -> Headers:
    return [("Content-Type", "application/json"), ("X-GitHub-Event", event),
            ("X-GitHub-Delivery", delivery or f"fuzz-{time.monotonic_ns()}"),
            ("X-Hub-Signature-256", webhooks.signature(slack.webhook_secret, body))]


def github_junk(slack: Slack, rng: random.Random, count: int) -> Iterator[Input]:
    """Deliveries: unsigned, missigned, and signed with junk payloads for every event."""
    events = (*sorted(webhooks.EVENTS), "ping", "push", "", "x" * 300, "pull_request\n")
    for _ in range(count):
        event = rng.choice(events)
        payload = {"action": rng.choice(("opened", "submitted", "completed", "x")),
                   "repository": {"full_name": "acme/myapp"},
                   "pull_request": {"number": 1, "head": {"sha": "0" * 40, "ref": "dev"}},
                   "check_run": {"head_sha": "0" * 40, "pull_requests": [{"number": 1}]},
                   "check_suite": {"head_sha": "0" * 40, "head_branch": "dev"},
                   "sha": "0" * 40, "branches": [{"name": "dev"}]}
        for _ in range(rng.randrange(1, 4)):
            payload = _break(rng, payload)
        body = rng.choice((json.dumps(payload).encode(), json.dumps(junk(rng)).encode(),
                           b"{not json", b"\xff\xfe", b""))
        headers = github_headers(slack, body, event if "\n" not in event else "x",
                                 rng.choice((None, "", "d\x1b[31m", "x" * 200, "a b")))
        roll = rng.randrange(4)
        if roll == 0:
            headers = [h for h in headers if h[0] != "X-Hub-Signature-256"]
        elif roll == 1:
            headers = [*headers[:-1], ("X-Hub-Signature-256", rng.choice((
                "sha256=" + "0" * 64, "sha1=abc", "", "sha256=")))]
        yield Input("github delivery junk", "POST", "/github/webhook", body, headers)


def other_routes(rng: random.Random, count: int) -> Iterator[Input]:
    paths = ("/slack/events", "/github/webhook", "/healthz", "/readyz", "/metrics", "/",
             "/slack/events/", "/SLACK/EVENTS", "/slack/events?x=1", "/%00", "/" + "a" * 2000,
             "/slack/install", "/slack/oauth_redirect")
    for _ in range(count):
        method = rng.choice(("GET", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "POST"))
        body = b"" if method in ("GET", "HEAD") else rng.choice((b"", b"x", b"{}"))
        yield Input("other method or path", method, rng.choice(paths), body,
                    [("Content-Type", "application/json")])
