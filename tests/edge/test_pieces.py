"""The edge's pieces on their own: the signature check against slack_sdk's own verifier, the
response_url rule and its no-redirect respond (against slack_sdk's WebhookClient, which does
follow), the payload shapes, and the Socket Mode guard inside a real Bolt app."""

from __future__ import annotations

import json
import logging
import random
import urllib.request
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from slack_bolt import App, BoltRequest
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.signature import Clock, SignatureVerifier
from slack_sdk.webhook import WebhookClient

from handlers import envelopes, signing
from handlers.response_urls import DirectRespond, ResponseUrls, Transport, middleware
from handlers.web import serve_background
from tests.edge.conftest import Recorder
from tests.waiting import wait_for

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = 1_800_000_000


class FixedClock(Clock):
    def now(self) -> float:
        return float(NOW)


# -- the signature ----------------------------------------------------------------------------


def test_the_signature_is_slack_sdks_for_any_body_and_fresh_timestamp() -> None:
    rng = random.Random(7)
    sdk = SignatureVerifier(SECRET, clock=FixedClock())
    for _ in range(300):
        body = "".join(chr(rng.randrange(0x20, 0x2FFF)) for _ in range(rng.randrange(0, 80)))
        ts = str(NOW + rng.randrange(-400, 400))
        ours = signing.signature(SECRET, ts, body.encode())
        assert ours == sdk.generate_signature(timestamp=ts, body=body)
        tampered = rng.choice((ours, ours[:-1] + "0", signing.signature("x", ts, body.encode())))
        verdict = signing.verify(SECRET, body.encode(), ts, tampered, NOW)
        assert (verdict is signing.Verdict.OK) == sdk.is_valid(body, ts, tampered), (ts, verdict)


@pytest.mark.parametrize(("timestamp", "verdict"), [
    (None, signing.Verdict.NO_TIMESTAMP), ("", signing.Verdict.NO_TIMESTAMP),
    ("abc", signing.Verdict.BAD_TIMESTAMP), ("12.5", signing.Verdict.BAD_TIMESTAMP),
    ("1e9", signing.Verdict.BAD_TIMESTAMP), (" 1800000000", signing.Verdict.BAD_TIMESTAMP),
    ("١٨٠٠٠٠٠٠٠٠", signing.Verdict.BAD_TIMESTAMP), ("-1", signing.Verdict.BAD_TIMESTAMP),
    ("9" * 40, signing.Verdict.BAD_TIMESTAMP), (str(NOW - 301), signing.Verdict.STALE),
    (str(NOW + 301), signing.Verdict.STALE),
])
def test_a_timestamp_that_is_not_fresh_whole_seconds_is_refused_without_raising(
        timestamp: str | None, verdict: signing.Verdict) -> None:
    body = b"token=x&command=%2Fpromote"
    sig = signing.signature(SECRET, (timestamp or "").strip(), body)
    assert signing.verify(SECRET, body, timestamp, sig, NOW) is verdict


def test_slack_sdks_verifier_raises_on_a_timestamp_that_is_not_an_integer() -> None:
    """Why Bolt answered 500: its RequestVerification calls this, inside its dispatch."""
    with pytest.raises(ValueError):
        SignatureVerifier(SECRET, clock=FixedClock()).is_valid("x", "12.5", "v0=00")


def test_a_signature_that_is_not_v0_hex_or_is_missing_is_refused() -> None:
    body, ts = b"x", str(NOW)
    good = signing.signature(SECRET, ts, body)
    assert signing.verify(SECRET, body, ts, good, NOW) is signing.Verdict.OK
    assert signing.verify(SECRET, body, ts, None, NOW) is signing.Verdict.NO_SIGNATURE
    for bad in ("", good.upper(), "v1" + good[2:], good + "0", good[:-1], f"{good},{good}"):
        assert signing.verify(SECRET, body, ts, bad, NOW) in (
            signing.Verdict.BAD_SIGNATURE, signing.Verdict.NO_SIGNATURE), bad
    assert signing.verify("", body, ts, signing.signature("", ts, body), NOW) \
        is signing.Verdict.BAD_SIGNATURE


# -- response_url -----------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "allowed"), [
    ("https://hooks.slack.com/commands/T0/123/abc", True),
    ("https://HOOKS.slack.com/actions/T0/1/x", True),
    ("https://hooks.slack.com:443/commands/x", True),
    ("http://127.0.0.1:8001/response/1", True),  # the listed extra host
    ("http://127.0.0.1:8002/response/1", False),  # another port of the same host
    ("http://hooks.slack.com/commands/x", False),
    ("https://hooks.slack.com:8443/commands/x", False),
    ("https://hooks.slack.com.evil.example/x", False),
    ("https://evil.example/hooks.slack.com/x", False),
    ("https://hooks.slack.com@evil.example/x", False),
    ("https://x@hooks.slack.com/x", False),
    ("https://hooks.slack.com\\@evil.example/x", False),
    ("https://hooks.slack.com/x\n", False),
    ("https://[::1/x", False),
    ("ftp://hooks.slack.com/x", False),
    ("", False), (None, False), (42, False), (["https://hooks.slack.com/x"], False),
    ("https://hooks.slack.com/" + "a" * 3000, False),
])
def test_the_response_url_rule(url: object, allowed: bool) -> None:
    assert ResponseUrls(["127.0.0.1:8001"]).allows(url) is allowed


def test_refused_names_every_url_bolt_could_take_by_its_host_only() -> None:
    rule = ResponseUrls()
    assert rule.refused({"response_url": "https://hooks.slack.com/a"}) == []
    assert rule.refused({"response_url": "https://evil.example/secret-path?token=1"}) == [
        "https://evil.example"]
    assert rule.refused({"response_urls": [{"response_url": "http://a.example:81/x"}, "junk"]}) \
        == ["http://a.example:81"]
    assert rule.refused({"response_url": 7}) == ["<int>"]
    assert rule.refused({}) == []


def test_slack_sdks_webhook_client_follows_a_redirect_and_direct_respond_does_not(
        caplog: pytest.LogCaptureFixture) -> None:
    """The contract behind DirectRespond: urllib turns a 302 to a POST into a GET of wherever
    it points (Bolt's respond would fetch any address a response_url host sends it to)."""
    with Recorder() as target, Recorder(redirect_to=f"{target.url}/next") as hop:
        WebhookClient(url=f"{hop.url}/hook").send(text="via the sdk")
        assert [(m, p) for m, p, _ in target.seen()] == [("GET", "/next")]

        respond = DirectRespond(response_url=f"{hop.url}/hook", rule=ResponseUrls([hop.netloc]))
        with caplog.at_level(logging.WARNING, logger="handlers.response_urls"):
            answer = respond(text="hi", response_type="ephemeral", replace_original=False)
        assert answer.status_code == 302
        assert len(target.seen()) == 1  # only the sdk's visit
        method, path, body = hop.seen()[-1]
        assert (method, path) == ("POST", "/hook")
        assert json.loads(body) == {"text": "hi", "response_type": "ephemeral",
                                    "replace_original": False}
        assert "the redirect was not followed" in caplog.text


def test_answers_to_one_host_keep_one_connection(recorder: Recorder) -> None:
    respond = DirectRespond(response_url=f"{recorder.url}/hook",
                            rule=ResponseUrls([recorder.netloc]))
    for n in range(3):
        assert respond(text=f"answer {n}").status_code == 200
    assert [json.loads(body)["text"] for _, _, body in recorder.seen()] == [
        "answer 0", "answer 1", "answer 2"]
    assert recorder.connections == 1


def test_answers_go_through_the_environments_proxy_unless_no_proxy_names_the_host(
        recorder: Recorder) -> None:
    """As urllib reads HTTP(S)_PROXY and NO_PROXY: a proxy is sent the absolute URL."""
    proxied = Transport({"http": recorder.netloc, "no": "localhost,.internal.example"})
    assert proxied.proxy_for("http://hooks.example/actions/1") == recorder.url
    assert proxied.proxy_for("http://bot.internal.example/x") is None
    assert proxied.proxy_for("https://hooks.slack.com/actions/1") is None  # no https proxy
    assert proxied.post("http://hooks.example/actions/1", b'{"text": "hi"}').status == 200
    assert recorder.seen() == [("POST", "http://hooks.example/actions/1", b'{"text": "hi"}')]
    with Recorder() as direct:
        bypassing = Transport({"http": recorder.url, "no": "127.0.0.1"})
        assert bypassing.post(f"{direct.url}/x", b"{}").status == 200
        assert [path for _, path, _ in direct.seen()] == ["/x"]
    assert len(recorder.seen()) == 1


def test_direct_respond_never_contacts_a_refused_host() -> None:
    with Recorder() as elsewhere:
        respond = DirectRespond(response_url=f"{elsewhere.url}/x", rule=ResponseUrls())
        with pytest.raises(ValueError, match="not allowed"):
            respond(text="hi")
        with pytest.raises(ValueError, match="no response_url"):
            DirectRespond(response_url=None, rule=ResponseUrls())(text="hi")
        assert elsewhere.seen() == []


def _socket_app(rule: ResponseUrls, heard: list[str]) -> App:
    def authorize(**_: Any) -> AuthorizeResult:  # one workspace, no auth.test to make
        return AuthorizeResult(enterprise_id=None, team_id="T1", bot_token="xoxb-test",
                               bot_user_id="U0BOT", bot_id="B0BOT")

    app = App(authorize=authorize, signing_secret=SECRET, token_verification_enabled=False,
              request_verification_enabled=False)
    app.use(middleware(rule))

    @app.command("/promote")
    def promote(ack: Any, respond: Any) -> None:
        ack()
        heard.append(type(respond).__name__)
        respond(text="answer")

    return app


def test_in_socket_mode_the_guard_refuses_a_foreign_response_url_before_any_listener() -> None:
    with Recorder() as allowed, Recorder() as elsewhere:
        heard: list[str] = []
        app = _socket_app(ResponseUrls([allowed.netloc]), heard)
        command = {"command": "/promote", "text": "status", "user_id": "U1",
                   "team_id": "T1", "channel_id": "C1", "trigger_id": "1.2.3"}
        refused = app.dispatch(BoltRequest(
            body={**command, "response_url": f"{elsewhere.url}/x"}, mode="socket_mode"))
        assert refused.status == 400 and heard == []
        done = app.dispatch(BoltRequest(
            body={**command, "response_url": f"{allowed.url}/x"}, mode="socket_mode"))
        assert done.status == 200
        wait_for(allowed.seen, "the answer at the allowed response_url")
        assert heard == ["DirectRespond"]
        assert [(m, p) for m, p, _ in allowed.seen()] == [("POST", "/x")]
        assert elsewhere.seen() == []


# -- payload shapes ---------------------------------------------------------------------------


def test_a_shape_problem_names_the_field_and_its_type_never_its_value() -> None:
    assert envelopes.problem({"command": "/promote", "text": "x"}) is None
    assert envelopes.problem([1]) == "$ is a array, not a object"
    said = envelopes.problem({"type": "block_actions", "actions": "SECRET-ish value"})
    assert said == "$.actions is a string, not a array"
    assert envelopes.problem({"actions": []}) == "$.actions is empty"
    assert envelopes.problem({"view": {"callback_id": "x"}}) == \
        "$.view lacks a field Slack always sends"
    assert envelopes.problem({"event": {"type": "app_home_opened", "user": {"id": "U"}}}) == \
        "$.event.user is a object, not a string"
    assert envelopes.problem({"event": {"type": "message", "user": {"id": "U"}}}) is None


def test_a_body_of_strings_gets_the_validators_verdict_without_its_walk() -> None:
    # problem() skips the schema for string values in string fields: same verdict either way
    validator = Draft202012Validator(envelopes.SCHEMA)
    keys = [*envelopes.SCHEMA["properties"], "unknown_field"]
    rng = random.Random(3)
    for _ in range(500):
        body = {key: rng.choice(["", "x", "U0DEV"]) for key in rng.sample(keys, rng.randrange(
            0, 6))}
        assert (envelopes.problem(body) is None) == validator.is_valid(body), body
    assert envelopes.problem({"command": "/promote", "user": "U0DEV"}) == \
        "$.user is a string, not a object"


def test_closing_the_http_server_never_writes_to_its_closed_wake_up_pipe() -> None:
    """close() wakes waitress's poll through a pipe the serving thread closes once stopped;
    a second close (a drain, then the process's own stop) once wrote to the closed pipe:
    EBADF, or a byte into whatever file had taken its number since."""

    def hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    server, url = serve_background(hello)
    with urllib.request.urlopen(url, timeout=30) as answer:
        assert answer.read() == b"ok"
    server.close()
    server.close()
