"""One whole staging promotion (push, /promote, CI and review by webhook, merge, Flux, rollout)
with every logger captured at DEBUG through the bot's JSON handler; then what /metrics and the
log lines show of it."""

from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

from sandbox.slack.models import VERIFICATION_TOKEN
from sandbox.world import BOT_GITHUB_TOKEN, BOT_TOKEN, PEOPLE, SIGNING_SECRET
from tests.observability.conftest import WEBHOOK_SECRET, Promoted

STEPS = ("requested", "pr_open", "awaiting_gates", "merging", "reconciling")


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def _sum(samples: dict, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))


def test_metrics_expose_every_series_after_a_promotion(promoted: Promoted) -> None:
    s = _samples(promoted.metrics)
    record = promoted.record
    assert _value(s, "promotebot_promotions_total", app="myapp", env="staging",
                  kind="promotion", result="deployed") == 1
    for step in STEPS:
        labels = {"kind": "promotion", "step": step}
        assert _value(s, "promotebot_step_duration_seconds_count", **labels) == 1, step
        assert _value(s, "promotebot_step_duration_seconds_sum", **labels) >= 0, step
    total = _sum(s, "promotebot_step_duration_seconds_sum")
    assert 0 < total <= (record.finished_at - record.requested_at).total_seconds() + 1
    # The gate wait: from awaiting_gates until CI and the review were in, a real wait.
    assert _value(s, "promotebot_gate_wait_seconds_count", app="myapp", env="staging") == 1
    assert _value(s, "promotebot_gate_wait_seconds_sum", app="myapp", env="staging") > 0
    for env in ("dev", "staging", "prod"):
        assert _value(s, "promotebot_rollbacks_total", app="myapp", env=env) == 0
    for service in ("github", "kubernetes", "slack", "redis"):
        assert _sum(s, "promotebot_external_calls_total", service=service) > 0, service
        assert _sum(s, "promotebot_external_errors_total", service=service) == 0, service
    assert _value(s, "promotebot_external_calls_total", service="slack",
                  operation="chat.postMessage") >= 1
    assert _value(s, "promotebot_external_calls_total", service="github",
                  operation="merge_pull") == 1
    assert _value(s, "promotebot_slack_ack_seconds_count") >= 1  # the /promote command
    assert 0 < _value(s, "promotebot_slack_ack_seconds_sum") < 3 * _value(
        s, "promotebot_slack_ack_seconds_count")
    assert _value(s, "promotebot_github_webhooks_total", event="pull_request_review",
                  outcome="accepted") == 1
    assert _value(s, "promotebot_github_webhooks_total", event="check_run",
                  outcome="accepted") == 1  # completed; "created" cannot move a gate
    assert _value(s, "promotebot_github_webhooks_total", event="check_run",
                  outcome="ignored") == 1


def test_log_capture_of_a_promotion_is_json_without_any_token(promoted: Promoted) -> None:
    secrets = [BOT_TOKEN, SIGNING_SECRET, BOT_GITHUB_TOKEN, WEBHOOK_SECRET, VERIFICATION_TOKEN,
               *(p.github_token for p in PEOPLE)]
    for secret in secrets:
        assert secret not in promoted.raw_log, secret
    lines = promoted.lines
    # a whole promotion's lines (card updates are coalesced, so fewer than one per step)
    assert len(lines) == len(promoted.raw_log.splitlines()) > 50
    for line in lines:
        assert {"time", "level", "logger", "message"} <= set(line)
    levels = {line["level"] for line in lines}
    assert "DEBUG" in levels and "INFO" in levels  # every logger, every level, captured
    # The forged command is refused before its body is read: nothing of it reaches a line
    # (Bolt, which parses first, used to log it whole), and its 401 is logged under an id of
    # the bot's own, not one the request chose. The redaction was exercised on slack_sdk's
    # Authorization headers.
    assert not any("forged.1.sandbox" in line["message"] for line in lines)
    [warning] = [line for line in lines if line["level"] == "WARNING"
                 and line["message"].startswith("401 for POST /slack/events")]
    assert re.fullmatch(r"[0-9a-f]{16}", warning["request_id"])
    assert "signature does not match" in warning["message"]
    assert any("'Authorization': '**********'" in line["message"] for line in lines)

    pid = promoted.record.id
    mine = [line for line in lines if line.get("promotion_id") == pid]
    assert len(mine) > 20
    assert {line["logger"].split(".")[0] for line in mine} >= {"slack_sdk", "urllib3"}
    assert all(line.get("promotion_id") in (None, pid) for line in lines)  # one promotion
    # Lines about the promotion by name carry its id.
    named = [line for line in lines if line["message"].startswith(f"promotion {pid}:")]
    assert all(line.get("promotion_id") == pid for line in named)
    # Each delivery's work carries its delivery id as the request id.
    accepted = [d for d in promoted.deliveries if d.status == 202]
    assert accepted
    for delivery in accepted:
        assert any(line.get("request_id") == delivery.id for line in lines), delivery.event
    # Work for the Slack command carries Slack's trigger id, and the record it created.
    trigger = promoted.observed.trigger_id
    command = [line for line in lines if trigger and line.get("request_id") == trigger]
    assert command and any(line.get("promotion_id") == pid for line in command)
