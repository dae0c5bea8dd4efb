"""App Home (published on open, re-published when a record changes, its viewers bounded and
pruned) and the HTTP surface: /healthz, /readyz with its probes, and unknown paths."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis

from handlers.web import WebApp, serve_background
from slackbot.adapters.redis_store import RedisStore
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
        lambda: "P-1 promotion by <@U0DEV>: awaiting gates" in _text_of(_home(edge, STAKE)),
        what="the home view showing P-1 awaiting its gates",
    )
    assert edge.store.viewers() == [STAKE]


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

    web = WebApp(edge.web.bolt, {"redis": broken, "ok": lambda: True}, signing_secret=SECRET,
                 readiness_deadline=60.0)  # "ok" must not fail by a loaded machine's delay
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


def test_readyz_answers_by_its_deadline_whatever_hangs_behind_it(edge: Edge) -> None:
    released = threading.Event()

    def hanging() -> bool:  # a Kubernetes API that accepts the connection and never answers
        released.wait(600)
        return True

    web = WebApp(edge.web.bolt, {"kubernetes": hanging}, signing_secret=SECRET,
                 readiness_deadline=0.5)
    server, url = serve_background(web)
    try:
        # the probe still hangs (nothing released it), yet /readyz has answered, naming it
        assert _get(f"{url}/readyz") == (503, {"status": "not ready", "failing": ["kubernetes"]})
        assert not released.is_set()
        assert _get(f"{url}/readyz")[0] == 503  # still hanging, still named
        released.set()
        wait_for(lambda: _get(f"{url}/readyz")[0] == 200, what="readyz once the probe answers",
                 timeout=120)
    finally:
        released.set()
        server.close()


def test_app_home_viewers_stay_bounded_however_many_open_it(edge: Edge) -> None:
    users = [f"U0VIEW{n:04d}" for n in range(RedisStore.VIEWERS_MAX + 15)]
    for user in users:
        assert _open_home(edge, user) == 200
    edge.settle()
    kept = edge.store.viewers()
    assert len(kept) == RedisStore.VIEWERS_MAX
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


@pytest.fixture
def store(redis_url: str) -> Iterator[RedisStore]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    prefix = f"viewers{uuid.uuid4().hex[:8]}:"
    try:
        yield RedisStore(client, prefix=prefix)
    finally:
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        client.close()


T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_viewers_keep_only_the_most_recent_within_the_bound(store: RedisStore) -> None:
    bound = RedisStore.VIEWERS_MAX
    for n in range(bound + 3):
        store.add_viewer(f"U{n:04d}", T0 + timedelta(seconds=n))
    kept = store.viewers()
    assert len(kept) == bound and "U0000" not in kept and f"U{bound + 2:04d}" in kept
    store.add_viewer("U0003", T0 + timedelta(hours=1))  # opened again: the newest now
    store.add_viewer("U9999", T0 + timedelta(hours=1, seconds=1))
    kept = store.viewers()
    assert len(kept) == bound and "U0003" in kept and "U0004" not in kept


def test_viewers_who_have_not_opened_the_tab_for_a_while_are_forgotten(
        store: RedisStore) -> None:
    store.add_viewer("U1", T0)
    store.add_viewer("U2", T0 + timedelta(minutes=5))
    since = T0 + timedelta(minutes=1)
    assert store.viewers(since) == ["U2"]  # U1 is not refreshed any more
    assert store.viewers() == ["U1", "U2"]
    assert store.forget_viewers(since) == 1
    assert store.viewers() == ["U2"]
