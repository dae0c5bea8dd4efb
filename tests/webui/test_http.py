"""The web UI's JSON endpoints over plain HTTP: bad input is a 400 with a message, never a
crash, and the server keeps answering after garbage and after clients that hang up.
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import pytest

from sandbox.webui import WebUI
from sandbox.webui.autoci import AutoCI
from sandbox.world import DEPLOYS, World
from tests.webui.conftest import Receiver, wait_for
from tests.webui.test_browser import open_pull


def call(
    ui: WebUI,
    path: str,
    body: Any = None,
    *,
    raw: bytes | None = None,
    method: str | None = None,
    content_type: str = "application/json",
) -> tuple[int, dict[str, Any]]:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(
        f"{ui.url}{path}",
        data=data,
        method=method or ("POST" if data is not None else "GET"),
        headers={"Content-Type": content_type},
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


BAD_REQUESTS: list[tuple[str, Any, str]] = [
    ("/api/command", {"channel": DEPLOYS, "text": "/promote staging"}, "'user' is required"),
    ("/api/command", {"user": "U0NOBODY", "channel": DEPLOYS, "text": "/x"}, "unknown user"),
    ("/api/command", {"user": "U0BOT0001", "channel": DEPLOYS, "text": "/x"}, "unknown user"),
    ("/api/command", {"user": "U0DEV", "channel": DEPLOYS, "text": "promote"}, "starts with '/'"),
    ("/api/command", {"user": "U0DEV", "channel": "C0NOPE", "text": "/x"}, "channel_not_found"),
    ("/api/command", {"user": "U0DEV", "channel": DEPLOYS, "text": 42}, "must be a string"),
    ("/api/command", {"user": "U0DEV", "channel": DEPLOYS, "text": "/" + "x" * 5000}, "longer"),
    ("/api/post", {"user": "U0DEV", "channel": DEPLOYS}, "'text' is required"),
    (
        "/api/post",
        {"user": "U0DEV", "channel": DEPLOYS, "text": "hi", "thread_ts": "1.2"},
        "thread",
    ),
    ("/api/click", {"user": "U0DEV", "channel": DEPLOYS, "ts": "1.000001"}, "'action_id'"),
    (
        "/api/click",
        {"user": "U0DEV", "channel": DEPLOYS, "ts": "1.000001", "action_id": "a"},
        "message_not_found",
    ),
    ("/api/click", {"user": "U0DEV", "view_id": "V404", "action_id": "a"}, "not_found"),
    (
        "/api/click",
        {"user": "U0DEV", "channel": DEPLOYS, "ts": "1", "action_id": "a", "value": {"x": 1}},
        "'value'",
    ),
    ("/api/submit", {"user": "U0DEV"}, "'view_id' is required"),
    ("/api/submit", {"user": "U0DEV", "view_id": "V404"}, "not_found"),
    ("/api/submit", {"user": "U0DEV", "view_id": "V1", "values": [1]}, "'values' must be"),
    ("/api/submit", {"user": "U0DEV", "view_id": "V1", "values": {"b": 3}}, "'values' must be"),
    ("/api/close", {"user": "U0DEV", "view_id": "V404"}, "not_found"),
    ("/api/approve", {}, "'number' must be"),
    ("/api/approve", {"number": -1}, "'number' must be"),
    ("/api/approve", {"number": True}, "'number' must be"),
    ("/api/approve", {"number": "seven"}, "'number' must be"),
    ("/api/approve", {"number": 99}, "Not Found"),
    ("/api/check", {"number": 1}, "'conclusion' is required"),
    ("/api/check", {"number": 1, "conclusion": "maybe"}, "conclusion must be one of"),
    ("/api/check", {"number": 99, "conclusion": "success"}, "no pull request #99"),
    ("/api/push", {"kind": "rewrite-history"}, "kind must be"),
    ("/api/push", {"message": ["not", "text"]}, "'message' must be a string"),
]


@pytest.mark.parametrize(("path", "body", "message"), BAD_REQUESTS)
def test_bad_input_is_a_400_with_a_message(
    webui: WebUI, path: str, body: Any, message: str
) -> None:
    status, answer = call(webui, path, body)
    assert status == 400, answer
    assert answer["ok"] is False
    assert message in answer["message"]


@pytest.mark.parametrize(
    ("raw", "content_type", "message"),
    [
        (b"{not json", "application/json", "not valid JSON"),
        (b"[1, 2]", "application/json", "must be a JSON object"),
        (b"\xff\xfe", "application/json", "not valid JSON"),
        (b"x" * (300 * 1024), "application/json", "too large"),
    ],
)
def test_malformed_bodies_are_a_400(
    webui: WebUI, raw: bytes, content_type: str, message: str
) -> None:
    status, answer = call(webui, "/api/command", raw=raw, content_type=content_type)
    assert status == 400
    assert message in answer["message"]


def test_state_for_an_unknown_user_is_a_400_naming_the_known_ones(webui: WebUI) -> None:
    status, answer = call(webui, "/api/state?user=U0NOBODY")
    assert status == 400
    assert "U0DEV" in answer["message"]


def test_unknown_routes_and_wrong_methods_are_answered_in_json(webui: WebUI) -> None:
    assert call(webui, "/api/nothing", {})[0] == 404
    status, answer = call(webui, "/api/command")
    assert (status, answer["error"]) == (405, "method_not_allowed")
    assert call(webui, "/api/command", {}, method="DELETE")[0] == 405


def test_state_carries_the_acting_users_view_and_the_world(webui: WebUI, world: World) -> None:
    world.slack.command("U0DEV", DEPLOYS, "/promote staging")  # no bot: Slackbot answers dana
    status, dana = call(webui, "/api/state?user=U0DEV")
    assert status == 200
    deploys = next(c for c in dana["slack"]["channels"] if c["id"] == DEPLOYS)
    assert [m["subtype"] for m in deploys["messages"]] == ["ephemeral"]
    _, riley = call(webui, "/api/state?user=U0REVIEW")
    assert next(c for c in riley["slack"]["channels"] if c["id"] == DEPLOYS)["messages"] == []
    assert [env["name"] for env in dana["world"]["envs"]] == ["dev", "staging", "prod"]
    assert dana["world"]["envs"][0]["tag"] == "1.0.0"
    assert dana["world"]["pulls"] == []


def test_pushes_are_real_commits_on_dev_each_a_new_tag(webui: WebUI, world: World) -> None:
    status, first = call(webui, "/api/push", {"message": "Faster checkout"})
    assert (status, first["tag"], first["subject"]) == (200, "1.0.1", "Faster checkout")
    _, broken = call(webui, "/api/break", {})
    assert broken["tag"] == "broken-1"
    _, second = call(webui, "/api/push", {})
    # After a broken build the next release continues from the last good version.
    assert (second["tag"], second["subject"]) == ("1.0.2", "Release myapp 1.0.2")
    _, changelog = call(webui, "/api/push", {"kind": "changelog", "message": "Docs"})
    log = world.github.state.repo.commits("dev", max_count=5)
    assert [c.sha for c in log[:4]] == [
        changelog["sha"],
        second["sha"],
        broken["sha"],
        first["sha"],
    ]
    assert [c.author.name for c in log[:4]] == ["dana"] * 4


def test_a_client_that_hangs_up_mid_request_leaves_the_server_answering(webui: WebUI) -> None:
    address = urlsplit(webui.url)
    for _ in range(3):
        with socket.create_connection((address.hostname, address.port), timeout=5) as sock:
            sock.sendall(
                b"POST /api/command HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b'Content-Length: 500\r\n\r\n{"user": '
            )
    with socket.create_connection((address.hostname, address.port), timeout=5) as sock:
        host = f"{address.hostname}:{address.port}".encode()
        sock.sendall(b"POST /api/command HTTP/1.1\r\nHost: " + host +
                     b"\r\nContent-Length: nope\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 400")
    status, answer = call(webui, "/api/state?user=U0DEV")
    assert (status, answer["ok"]) == (200, True)


def test_auto_ci_passes_each_new_head_once_after_its_delay(webui: WebUI, world: World) -> None:
    call(webui, "/api/push", {})
    number = open_pull(world)
    sha = world.github.pull_request(number)["head"]["sha"]
    ci = AutoCI(world, delay=1.0)
    assert ci.run_once(100.0) == []
    assert ci.run_once(100.5) == []
    assert ci.run_once(101.0) == [sha]
    assert ci.run_once(102.0) == []
    runs = [r for r in world.github.state.check_runs.values() if r.head_sha == sha]
    assert [(r.name, r.conclusion) for r in runs] == [("ci", "success")]


def test_auto_ci_leaves_a_head_the_ci_already_judged(webui: WebUI, world: World) -> None:
    call(webui, "/api/push", {})
    number = open_pull(world)
    sha = world.github.pull_request(number)["head"]["sha"]
    world.github.set_check(sha, "ci", "failure")
    ci = AutoCI(world, delay=0.0)
    assert ci.run_once(0.0) == []
    assert [r.conclusion for r in world.github.state.check_runs.values()] == ["failure"]


def test_home_opened_is_answered_whether_or_not_slack_can_tell_the_app(webui: WebUI) -> None:
    status, answer = call(webui, "/api/home_opened", {"user": "U0DEV"})
    assert (status, answer["ok"]) == (200, True)
    assert answer["delivered"] is hasattr(webui.world.slack, "open_home")
    assert call(webui, "/api/home_opened", {"user": "U0BOT0001"})[0] == 400


COMMAND = json.dumps({"user": "U0DEV", "channel": DEPLOYS, "text": "/promote status"}).encode()


def _send(ui: WebUI, method: str, path: str, body: bytes, headers: dict[str, str]
          ) -> tuple[int, dict[str, Any]]:
    """One request with exactly these headers (no Host unless given)."""
    address = urlsplit(ui.url)
    conn = http.client.HTTPConnection(address.hostname or "", address.port, timeout=15)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def _own(ui: WebUI) -> dict[str, str]:
    return {"Host": urlsplit(ui.url).netloc, "Origin": ui.url}


@pytest.mark.parametrize(("change", "status"), [
    ({"Content-Type": None}, 415),  # a no-cors fetch of a Blob: no content type at all
    ({"Content-Type": "text/plain;charset=UTF-8"}, 415),  # a no-cors fetch of a string
    ({"Content-Type": "application/x-www-form-urlencoded"}, 415),  # a cross-site form
    ({"Content-Type": "multipart/form-data; boundary=x"}, 415),
    ({"Origin": "http://evil.example"}, 403),
    ({"Origin": "null"}, 403),  # a sandboxed iframe, a file:// page
    ({"Origin": "http://127.0.0.1:1"}, 403),  # another local server
    ({"Sec-Fetch-Site": "cross-site"}, 403),
    ({"Sec-Fetch-Site": "same-site"}, 403),  # same host, another port
    ({"Host": "evil.example"}, 403),  # DNS rebinding: the page names its own host
    ({"Host": "evil.example", "Origin": "http://evil.example"}, 403),
    ({"Host": None}, 403),
])
def test_a_post_from_another_origin_or_not_json_runs_nothing(
        webui: WebUI, world: World, receiver: Receiver, change: dict[str, str | None],
        status: int) -> None:
    world.slack.bot_request_url = receiver.url
    headers = {**_own(webui), "Content-Type": "application/json", **change}
    sent = {k: v for k, v in headers.items() if v is not None}
    answer_status, answer = _send(webui, "POST", "/api/command", COMMAND, sent)
    assert (answer_status, answer["ok"]) == (status, False), answer
    assert answer["message"]
    assert receiver.requests == []
    assert world.slack.ephemerals("U0DEV") == []


def test_its_own_page_under_either_loopback_name_is_answered(
        webui: WebUI, world: World, receiver: Receiver) -> None:
    world.slack.bot_request_url = receiver.url
    port = urlsplit(webui.url).port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        headers = {"Host": host, "Origin": f"http://{host}", "Sec-Fetch-Site": "same-origin",
                   "Content-Type": "application/json; charset=utf-8"}
        status, answer = _send(webui, "POST", "/api/command", COMMAND, headers)
        assert (status, answer["ok"]) == (200, True), answer
    wait_for(lambda: len(receiver.requests) == 2, what="both commands at the bot")
    assert [r["command"] for r in receiver.requests] == ["/promote", "/promote"]


def test_a_rebinding_page_cannot_read_the_state_or_the_page(webui: WebUI) -> None:
    for path in ("/api/state?user=U0DEV", "/", "/static/app.js"):
        status, answer = _send(webui, "GET", path, b"", {"Host": "evil.example:80"})
        assert (status, answer["error"]) == (403, "forbidden"), path
    status, answer = _send(webui, "GET", "/api/state?user=U0DEV", b"", _own(webui))
    assert (status, answer["ok"]) == (200, True)
