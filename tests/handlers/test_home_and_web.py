"""App Home (published on open, re-published when a record changes, its viewers bounded and
pruned) and the HTTP surface: /healthz, /readyz with its probes, and unknown paths."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator

import pytest
import redis

from handlers.home import VIEWERS_LIMIT, HomeViewers
from handlers.web import WebApp, serve_background
from tests.handlers.conftest import SECRET, STAKE, Edge, wait_for
from tests.handlers.test_promotion_card import _text_of


def _get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _open_home(edge: Edge, user: str) -> int:
    event = {
        "token": "x",
        "team_id": "T0SANDBOX",
        "api_app_id": "A0SANDBOX",
        "type": "event_callback",
        "event_id": f"Ev{uuid.uuid4().hex[:10]}",
        "event_time": int(time.time()),
        "event": {
            "type": "app_home_opened",
            "user": user,
            "channel": "D0HOME",
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        },
    }
    status, _ = edge.signed_post(json.dumps(event), content_type="application/json")
    return status


def _home(edge: Edge, user: str) -> dict | None:
    return edge.emulator.state()["home"].get(user)


def test_app_home_is_published_on_open_and_refreshed_on_change(edge: Edge) -> None:
    assert _open_home(edge, STAKE) == 200
    home = wait_for(lambda: _home(edge, STAKE), what="the home view")
    text = _text_of(home)
    assert "Status of myapp" in text and "*prod*" in text
    assert "*Live promotion*\nnone" in text

    edge.command("/promote staging")
    edge.wait_state(1, "awaiting_gates")
    wait_for(
        lambda: "#1 promotion by <@U0DEV0001>: awaiting gates" in _text_of(_home(edge, STAKE)),
        what="the home view showing #1 awaiting its gates",
    )
    assert edge.redis.zrange(f"{edge.prefix}home:viewers", 0, -1) == [STAKE]


def test_healthz_is_always_ok_and_readyz_names_a_failing_probe(edge: Edge) -> None:
    assert _get(f"{edge.url}/healthz") == (200, {"status": "ok"})
    assert _get(f"{edge.url}/readyz") == (200, {"status": "ready"})
    edge.probes["github"] = False
    assert _get(f"{edge.url}/readyz") == (503, {"status": "not ready", "failing": ["github"]})
    assert _get(f"{edge.url}/healthz")[0] == 200
    edge.probes["github"] = True
    assert _get(f"{edge.url}/readyz")[0] == 200


def test_a_probe_that_raises_counts_as_failing(edge: Edge) -> None:
    def broken() -> bool:
        raise ConnectionError("redis down")

    web = WebApp(edge.web.bolt, {"redis": broken, "ok": lambda: True}, signing_secret=SECRET)
    server, url = serve_background(web)
    try:
        assert _get(f"{url}/readyz") == (503, {"status": "not ready", "failing": ["redis"]})
        request = urllib.request.Request(f"{url}/nowhere")
        try:
            urllib.request.urlopen(request, timeout=5)
            raise AssertionError("expected 404")
        except urllib.error.HTTPError as exc:
            assert exc.code == 404
    finally:
        server.close()


def test_app_home_viewers_stay_bounded_however_many_open_it(edge: Edge) -> None:
    users = [f"U0VIEW{n:04d}" for n in range(VIEWERS_LIMIT + 15)]
    for user in users:
        assert _open_home(edge, user) == 200
    edge.settle()
    key = f"{edge.prefix}home:viewers"
    kept = edge.redis.zrange(key, 0, -1)
    assert len(kept) == VIEWERS_LIMIT
    assert set(kept) <= set(users)


def test_an_app_home_event_whose_user_is_not_an_id_is_refused_and_stores_nothing(
        edge: Edge) -> None:
    event = {"token": "x", "team_id": "T0SANDBOX", "type": "event_callback",
             "event_id": f"Ev{uuid.uuid4().hex[:10]}", "event_time": int(time.time()),
             "event": {"type": "app_home_opened", "user": {"id": STAKE}, "tab": "home"}}
    before = edge.snapshot()
    status, _ = edge.signed_post(json.dumps(event), content_type="application/json")
    assert status == 400
    assert edge.snapshot() == before
    assert edge.emulator.state()["home"] == {}


# -- the viewer list on its own, on the real redis-server, with a stepped clock -------------


class SteppedClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        yield r
    finally:
        r.delete(KEY)
        r.close()


KEY = f"viewers{uuid.uuid4().hex[:8]}:home:viewers"


def test_viewers_keep_only_the_most_recent_within_the_bound(client: redis.Redis) -> None:
    clock, key = SteppedClock(), KEY
    viewers = HomeViewers(client, key, limit=3, ttl_seconds=3600, clock=clock)
    for n in range(1, 7):
        clock.now += 1
        viewers.add(f"U{n}")
    assert viewers.all() == ["U4", "U5", "U6"]
    clock.now += 1
    viewers.add("U4")  # opened again: the newest now, so U5 is the oldest kept
    viewers.add("U7")
    assert viewers.all() == ["U4", "U6", "U7"]
    assert client.zcard(key) == 3


def test_viewers_who_have_not_opened_the_tab_within_the_ttl_are_pruned(
        client: redis.Redis) -> None:
    clock, key = SteppedClock(), KEY
    viewers = HomeViewers(client, key, limit=10, ttl_seconds=600, clock=clock)
    viewers.add("U1")
    clock.now += 300
    viewers.add("U2")
    clock.now += 301  # U1 is 601 s old: not refreshed, and gone from Redis at the next open
    assert viewers.all() == ["U2"]
    assert client.zcard(key) == 2
    viewers.add("U3")
    assert client.zrange(key, 0, -1) == ["U2", "U3"]


def test_a_viewer_set_left_by_an_older_version_becomes_the_bounded_list(
        client: redis.Redis) -> None:
    clock, key = SteppedClock(), KEY
    client.sadd(key, "U1", "U2")
    viewers = HomeViewers(client, key, limit=5, ttl_seconds=60, clock=clock)
    assert viewers.all() == ["U1", "U2"]
    assert client.type(key) == "zset"
    clock.now += 61
    assert viewers.all() == []
