"""`/promote stats [app]`, App Home's delivery section and the DORA series of /metrics, through
the real Bolt app and the Slack emulator, over a history constructed in the real Redis."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from slackbot.adapters.redis_store import RedisStore
from slackbot.models import Kind, State
from tests.core.test_store_outcomes import finish
from tests.handlers.conftest import OUTSIDER, STAKE, Edge, running_edge, wait_for


def _text_of(message: dict[str, Any]) -> str:
    parts = []
    for block in message.get("blocks") or []:
        if block.get("text"):
            parts.append(block["text"]["text"])
        parts.extend(e.get("text", "") for e in block.get("elements") or [])
    return "\n".join(parts)


def _history(store: RedisStore, now: datetime) -> None:
    """Prod: two deploys (3 h lead time each, the first rolled back an hour later, restored
    in an hour); staging: one deploy 10 days ago."""
    finish(store, State.DEPLOYED, now - timedelta(hours=30))
    finish(store, State.DEPLOYED, now - timedelta(hours=5))
    finish(store, State.DEPLOYED, now - timedelta(hours=3), kind=Kind.ROLLBACK)
    finish(store, State.DEPLOYED, now - timedelta(days=10), env="staging")


@pytest.fixture
def edge_after(redis_url: str) -> Iterator[Edge]:
    """The edge started over the history, written before the bot runs: each record passes
    through live states, which a running bot's resume would take up meanwhile."""
    with running_edge(redis_url, seed=_history) as running:
        yield running


def _stats_answer(edge: Edge, user: str) -> dict[str, Any]:
    return wait_for(lambda: next((m for m in edge.emulator.ephemerals(user)
                                  if m.get("text", "").startswith("Delivery figures")), None),
                    what="the stats answer")


def test_stats_shows_each_env_and_window_to_anyone(edge_after: Edge) -> None:
    edge = edge_after
    result = edge.command("/promote stats", user=OUTSIDER)  # no role needed to read
    assert result["ack"] is None
    text = _text_of(_stats_answer(edge, OUTSIDER))
    assert "Delivery figures: myapp" in text
    prod = text[text.index("*prod*"):]
    assert prod.startswith(
        "*prod*\n`7d`  2 deploys (2.0 a week) · lead time 3h · failed 1 of 2 (50%) · "
        "restore 1h\n`30d`  2 deploys (0.5 a week)")
    staging = text[text.index("*staging*"):text.index("*prod*")]
    assert "`7d`  no deploy · lead time n/a · failed n/a (no change)" in staging
    assert "`30d`  1 deploy (0.2 a week) · lead time 3h" in staging
    assert "within 24h" in text
    assert edge.working_notes(OUTSIDER) == []


def test_stats_of_an_unknown_app_names_the_closest(edge: Edge) -> None:
    edge.command("/promote stats myap")
    text = edge.wait_ephemeral("U0DEV", "myap")
    assert "`myapp`" in text
    assert not any(t.startswith("Delivery figures") for t in edge.ephemeral_texts("U0DEV"))


def test_metrics_export_the_figures_per_app_env_and_window(edge_after: Edge) -> None:
    edge = edge_after
    with urllib.request.urlopen(f"{edge.url}/metrics", timeout=10) as response:
        body = response.read().decode()
    samples = {(s.name, s.labels["app"], s.labels["env"], s.labels["window"]): s.value
               for family in text_string_to_metric_families(body)
               if family.name.startswith("promotebot_dora_")
               for s in family.samples}
    assert samples[("promotebot_dora_deploys", "myapp", "prod", "7d")] == 2
    assert samples[("promotebot_dora_change_failure_ratio", "myapp", "prod", "7d")] == 0.5
    assert samples[("promotebot_dora_lead_time_seconds", "myapp", "prod", "90d")] == 3 * 3600
    assert samples[("promotebot_dora_time_to_restore_seconds", "myapp", "prod", "30d")] == 3600
    assert samples[("promotebot_dora_deploys", "myapp", "staging", "7d")] == 0
    assert ("promotebot_dora_change_failure_ratio", "myapp", "staging", "7d") not in samples
    assert samples[("promotebot_dora_deploys", "myapp", "dev", "90d")] == 0


def test_app_home_shows_the_last_30_days(edge_after: Edge) -> None:
    edge = edge_after
    event = {"token": "x", "team_id": "T0SANDBOX", "api_app_id": "A0SANDBOX",
             "type": "event_callback", "event_id": f"Ev{uuid.uuid4().hex[:10]}",
             "event_time": int(time.time()),
             "event": {"type": "app_home_opened", "user": STAKE, "channel": "D0HOME",
                       "tab": "home", "event_ts": f"{time.time():.6f}"}}
    status, _ = edge.signed_post(json.dumps(event), content_type="application/json")
    assert status == 200
    home = wait_for(lambda: edge.emulator.state()["home"].get(STAKE), what="the home view")
    text = _text_of(home)
    assert "*Delivery figures: myapp* · Delivery, last 30 days" in text
    assert ("*prod*  2 deploys (0.5 a week) · lead time 3h · failed 1 of 2 (50%) · restore 1h"
            in text)
