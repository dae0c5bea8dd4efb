"""App Home (published on open, re-published when a record changes) and the HTTP surface:
/healthz, /readyz with its probes, and unknown paths."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid

from handlers.web import WebApp, serve_background
from tests.handlers.conftest import STAKE, Edge, wait_for
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
        lambda: "P-1 promotion by <@U0DEV0001>: awaiting gates" in _text_of(_home(edge, STAKE)),
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

    web = WebApp(edge.web._slack.app, {"redis": broken, "ok": lambda: True})
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
