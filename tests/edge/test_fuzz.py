"""A bounded, seeded fuzz of the real bot's HTTP edge: thousands of malformed requests (bad,
missing, huge and duplicated headers; malformed and stale timestamps; truncated, non-UTF-8,
oversized and mistyped bodies; Slack's payload shapes with fields broken; junk deliveries;
other methods and paths) and slash commands whose texts carry control characters, mrkdwn
control sequences and very long words, all over real HTTP. Not one may get a 5xx, and the
bot must still answer a real `/promote status` afterwards.

The inputs and their order come from one seed; they go out over four connections, so only
the interleaving differs between runs (a reply that depends on an earlier input, like a
freeze, may change; a 5xx cannot). The replies to the commands are read too (the acks, and
what reached the emulator's response_urls): the count of replies that echo a control
sequence of their input unescaped (`<!channel>`, `<@U...>`) is printed, not yet asserted:
escaping echoes is issue 13's point 4, in the message texts; the test tightens when it lands.
"""

from __future__ import annotations

import itertools
import json
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from handlers.web import MAX_BODY_BYTES
from sandbox.world import DEPLOYS, INCIDENTS, PEOPLE, SIGNING_SECRET
from tests.e2e.conftest import DEV, blocks_text
from tests.edge import fuzz
from tests.observability.conftest import WEBHOOK_SECRET, Observed, observed_world
from tests.waiting import wait_for

SEED = 13
SENDERS = 4  # concurrent connections (the bot's waitress serves 8)
BAD_HEADERS, SIGNED_JUNK, GITHUB, OTHER, COMMANDS = 400, 1500, 300, 80, 500


@dataclass
class Outcome:
    kind: str
    status: int
    answer: bytes
    sent: fuzz.Input


def _texts_of(message: dict[str, Any]) -> str:
    return "\n".join([str(message.get("text") or ""), blocks_text(message.get("blocks") or [])])


def _echoes(text: str) -> bool:
    return any(marker in text for marker in fuzz.CONTROL_SEQUENCES)


@pytest.fixture
def quiet_bot(tmp_path: Path, redis_url: str) -> Iterator[Observed]:
    """The bot with its log captured from INFO (Bolt's DEBUG lines would cost most of the
    run: every request's body, redacted)."""
    with observed_world(tmp_path, redis_url, capture_level=logging.INFO) as world:
        yield world


# thousands of requests, each with real git and kustomize behind it: a bound of its own that
# no load exhausts (the suite's default is 300 s)
@pytest.mark.timeout(1200)
def test_thousands_of_malformed_requests_get_no_5xx_and_the_bot_still_answers(
        quiet_bot: Observed) -> None:
    o = quiet_bot
    # Hundreds of signed requests answered within a minute: this test is about the edge's
    # refusals, not Slack's tiers (chat.postEphemeral's would pace the answers for minutes).
    o.world.slack.set_slack_limits([])
    ws = o.world.slack.workspace

    def issue(user: str, channel: str) -> tuple[str, str, str]:
        url_id = ws.issue_response_url(user, channel, None, False)
        return ws.issue_trigger(user), f"{o.world.slack.url}/response/{url_id}", url_id

    users = tuple(p.slack_id for p in PEOPLE)
    slack = fuzz.Slack(SIGNING_SECRET, WEBHOOK_SECRET, issue, users, (DEPLOYS, INCIDENTS))
    rng = random.Random(SEED)
    inputs = list(itertools.chain(
        fuzz.bad_headers(slack, rng, BAD_HEADERS),
        fuzz.signed_junk(slack, rng, SIGNED_JUNK),
        fuzz.oversized(slack, MAX_BODY_BYTES),
        fuzz.github_junk(slack, rng, GITHUB),
        fuzz.other_routes(rng, OTHER),
        fuzz.commands(slack, rng, COMMANDS),
    ))
    local = threading.local()

    def send(item: fuzz.Input) -> Outcome:
        if not hasattr(local, "wire"):
            local.wire = fuzz.Wire(str(o.bot.url))
        status, answer = local.wire.send(item.method, item.path, item.body, item.headers,
                                         item.content_length)
        return Outcome(item.kind, status, answer, item)

    started = time.monotonic()
    with ThreadPoolExecutor(SENDERS, thread_name_prefix="fuzz") as senders:
        outcomes = list(senders.map(send, inputs))
    sending = time.monotonic() - started
    # every command runs real git and kustomize behind it: a bound no load exhausts
    wait_for(o.bot.idle, "the bot's listeners and its workers to finish", timeout=240)

    five_xx = [x for x in outcomes if x.status >= 500]
    by_status = Counter(x.status for x in outcomes)
    by_kind = Counter(x.kind for x in outcomes)

    # The replies: each command's ack, and what the bot posted to the response_urls.
    replies: list[str] = []
    for x in outcomes:
        if x.sent.replies and x.status == 200 and x.answer:
            try:
                ack = json.loads(x.answer)
            except ValueError:
                replies.append(x.answer.decode("utf-8", "replace"))
            else:
                replies.append(_texts_of(ack) if isinstance(ack, dict) else str(ack))
    for user in users:
        replies.extend(_texts_of(m) for m in o.world.slack.ephemerals(user))
    for channel in (DEPLOYS, INCIDENTS):
        replies.extend(_texts_of(m) for m in o.world.slack.history(channel)
                       if m.get("user") == ws.bot_user_id)
    commands_with_markers = sum(1 for x in inputs if x.replies and _echoes(x.text))
    echoes = sum(1 for text in replies if _echoes(text))

    # Healthy after it: a real /promote status from the Slack emulator still answers.
    before = len(o.world.slack.ephemerals(DEV))
    answer = o.world.slack.command(DEV, DEPLOYS, "/promote status")
    assert answer["status"] == 200, answer
    wait_for(lambda: any("Status of myapp" in _texts_of(m)
                         for m in o.world.slack.ephemerals(DEV)[before:]), "the status answer")
    assert o.get("/healthz")[0] == 200
    assert o.get("/readyz")[0] == 200

    print(f"\nedge fuzz, seed {SEED}: {len(inputs)} inputs in {sending:.1f} s over {SENDERS} "
          f"connections; 5xx: {len(five_xx)}")
    print("  statuses: " + ", ".join(f"{s}: {n}" for s, n in sorted(by_status.items())))
    print("  inputs: " + ", ".join(f"{k}: {n}" for k, n in sorted(by_kind.items())))
    print(f"  replies read: {len(replies)}; replies echoing a control sequence unescaped: "
          f"{echoes} (commands carrying one: {commands_with_markers}; not asserted yet)")
    assert [(x.kind, x.status, x.sent.body[:120]) for x in five_xx] == []
    assert len(inputs) >= 2500
