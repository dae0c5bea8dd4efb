"""GitHub webhooks end to end: the emulator signs and delivers, the bot's /github/webhook
verifies, and the records a delivery concerns are re-evaluated at once. The gate poll is an
hour away and the Flux watch is stopped, so only a webhook can move the record."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

from slackbot.models import State
from tests.e2e.conftest import wait_for
from tests.observability.conftest import WEBHOOK_SECRET, Observed, promote_to_awaiting_staging


def _gate_passed(o: Observed, promotion_id: int, name: str) -> bool:
    gate = o.record(promotion_id).gate(name)
    return gate is not None and gate.passed


def _settle(o: Observed, promotion_id: int) -> None:
    """Until every listener and every piece of work the bot's workers hold has finished."""
    wait_for(o.bot.idle, f"work on #{promotion_id} to finish")


def test_review_webhook_merges_waiting_staging_promotion_without_the_poll(
        observed: Observed) -> None:
    o = observed
    record, sha = promote_to_awaiting_staging(o)
    gates_job = o.bot.scheduler.get_job("gates")
    assert gates_job.next_run_time > datetime.now(UTC) + timedelta(minutes=30)

    # CI goes green: the check_run delivery re-reads the gates now; the review still waits.
    o.world.github.set_check(sha, "ci", "success")
    wait_for(lambda: _gate_passed(o, record.id, "check:ci"), "the ci gate green by webhook")
    assert o.record(record.id).state is State.AWAITING_GATES
    assert not _gate_passed(o, record.id, "reviews")

    o.bot.watch.stop()  # from here on, Flux events move nothing
    _settle(o, record.id)  # and nothing already started can take the next step
    o.approve_pull(record.pr_number)
    merged = o.wait_state(record.id, State.RECONCILING, State.DEPLOYED, State.FAILED)
    assert merged.state in (State.RECONCILING, State.DEPLOYED), merged.failure
    assert merged.merge_sha and o.world.github.pull_request(merged.pr_number)["merged"]

    o.world.github.hooks.wait_idle()
    reviews = [d for d in o.world.github.deliveries if d.event == "pull_request_review"]
    assert [(d.action, d.status) for d in reviews] == [("submitted", 202)]
    payload = json.loads(reviews[0].body)
    assert payload["review"]["state"] == "approved"  # lower case in webhooks
    assert payload["pull_request"]["number"] == record.pr_number
    # The merge ran in the work the review delivery kicked: its lines carry both ids.
    [merge] = [line for line in o.log_lines()
               if f"PUT /repos/acme/myapp/pulls/{record.pr_number}/merge" in line["message"]]
    assert (merge["request_id"], merge["promotion_id"]) == (reviews[0].id, record.id)
    assert gates_job.next_run_time > datetime.now(UTC) + timedelta(minutes=30)  # never ran


def test_unsigned_and_missigned_deliveries_get_401_and_change_nothing(observed: Observed) -> None:
    o = observed
    body = json.dumps({
        "action": "submitted", "review": {"id": 1, "state": "approved"},
        "pull_request": {"number": 1, "head": {"sha": "0" * 40, "ref": "dev"}},
        "repository": {"full_name": "acme/myapp"}, "sender": {"login": "riley"},
    }).encode()
    delivery = "6f1a2b3c-0000-4000-8000-000000000001"
    base = {"Content-Type": "application/json", "X-GitHub-Event": "pull_request_review",
            "X-GitHub-Delivery": delivery}

    def signed(secret: str, data: bytes) -> str:
        return "sha256=" + hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()

    forged = [
        {},  # unsigned
        {"X-Hub-Signature-256": signed("not-the-secret", body)},
        {"X-Hub-Signature-256": signed(WEBHOOK_SECRET, body + b" ")},  # another body
        {"X-Hub-Signature-256": "sha256=" + "0" * 64},
        {"X-Hub-Signature-256": signed(WEBHOOK_SECRET, body)[7:]},  # no sha256= prefix
        {"X-Hub-Signature": "sha1=" + hmac.new(WEBHOOK_SECRET.encode(), body,
                                              hashlib.sha1).hexdigest()},  # legacy only
    ]
    before = o.redis_snapshot()
    for extra in forged:
        status, answer = o.post("/github/webhook", body, {**base, **extra})
        assert status == 401, (extra, answer)
    assert o.redis_snapshot() == before
    warnings = [line for line in o.log_lines() if line["level"] == "WARNING"
                and line["message"].startswith("401 for POST /github/webhook")]
    assert len(warnings) == len(forged)
    assert all(line["request_id"] == delivery for line in warnings)

    # The same delivery, signed: accepted (the forged ones claimed nothing), then only once.
    good = {**base, "X-Hub-Signature-256": signed(WEBHOOK_SECRET, body)}
    assert o.post("/github/webhook", body, good)[0] == 202
    assert o.post("/github/webhook", body, good)[0] == 200
