"""A bounded, seeded fuzz of what the bot says back: thousands of slash command texts (control
characters, Slack control sequences like <!channel>, <@U...>, <#C...|x>, entities like &lt;,
mrkdwn, very long words, unicode), typed by people of every role in both channels, through
the Slack emulator and the real Bolt app.

Every reply is read as Slack would render it: the acks, the ephemerals, what reached the
channels and their threads, and the dialogs opened. Not one may carry a control sequence the
bot did not choose (only mentions of workspace users, links to the app's channels, dates and
pull request links are the bot's own); no entity of the input may come back decoded; no
request gets a 5xx; and the bot answers `/promote status` afterwards.

The fuzz ids (U0FUZZ.., C0FUZZ..) are in no workspace: an echo of one, escaped or turned into a
mention by mistake, cannot pass for a mention the bot chose.
"""

from __future__ import annotations

import random
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from sandbox.slack import SlackChannel, SlackUser, SlackUserGroup
from tests.handlers.conftest import DEPLOYS, INCIDENTS, ONCALL, STAKEHOLDERS, Edge, running_edge
from tests.handlers.observing import foreign_sequences, texts_of

SEED = 13
INPUTS = 2400
SENDERS = 4
DEV, REV, STAKE, ONCALL_USER, OUT = "U0DEV", "U0REVIEW", "U0STAKE", "U0ONCALL", "U0OUT"
PEOPLE = (DEV, REV, STAKE, ONCALL_USER, OUT)
ENTITY_MARK = "entfuzz"  # only ever sent as an entity: a decoded echo would show it as a tag

SEQUENCES = (
    "<!channel>", "<!here>", "<!everyone>", "<!channel|x>", "<@U0FUZZ1>", "<@W0FUZZ2|boss>",
    "<#C0FUZZ3|general>", "<!subteam^S0FUZZ4>", "<!subteam^S0FUZZ5|@ops>",
    "<https://evil.example/x|click me>", "<mailto:a@evil.example|mail>", "<!date^1^{date}|x>",
    "<<@U0FUZZ6>>", "<", ">", "<@", "<!", "<#C0FUZZ7", "U0FUZZ8", "W0FUZZ9", "@channel",
)
ENTITIES = (
    f"&lt;!{ENTITY_MARK}&gt;", f"&lt;@{ENTITY_MARK}&gt;", f"&amp;lt;{ENTITY_MARK}", "&amp;",
    "&lt;", "&gt;", "&#60;", "&",
)
CONTROLS = ("\x00", "\x07", "\x1b[31m", "\t", "\r", "\u202e", "\u200b", "\ufeff", "\x7f")
UNICODE = ("ünïcödé", "漢字", "🚀", "e\u0301", "\U0001d518\U0001d52b\U0001d526", "ß", "Ω≈ç√")
MRKDWN = ("*bold*", "_it_", "`code`", "```", "~s~", ">quote", "<>", "|", "*_~`")
WORDS = (
    "staging", "prod", "dev", "myapp", "freeze", "unfreeze", "unlock", "cancel", "status",
    "help", "from", "to", "emergency", "start", "promote", "1", "2", "#1", "abc1234",
    "fix-login", "hotfix/x", "..", "-x", "stagin", "prdo", "statsu",
)


def _word(rng: random.Random) -> str:
    pick = rng.random()
    if pick < 0.3:
        return rng.choice(SEQUENCES)
    if pick < 0.42:
        return rng.choice(ENTITIES)
    if pick < 0.5:
        return rng.choice(CONTROLS) + rng.choice(WORDS)
    if pick < 0.58:
        return rng.choice(UNICODE)
    if pick < 0.64:
        return rng.choice(MRKDWN)
    if pick < 0.67:
        return rng.choice("ab<>&xyz") * rng.randint(200, 3000)  # a very long word
    return rng.choice(WORDS)


def _text(rng: random.Random) -> tuple[str, str]:
    command = rng.choice(("/promote", "/promote", "/rollback", "/hotfix"))
    words = [_word(rng) for _ in range(rng.randint(0, 6))]
    if command == "/promote" and rng.random() < 0.6:  # reach past the parser: envs, subcommands
        words.insert(0, rng.choice(("staging", "prod", "dev", "freeze prod", "freeze staging",
                                    "unfreeze prod", "unlock staging", "status", "cancel")))
    if command == "/hotfix" and rng.random() < 0.7:
        words.insert(0, rng.choice(("start", "promote")))
    if command == "/rollback" and rng.random() < 0.7:
        words.insert(0, rng.choice(("dev", "staging", "prod", "prod emergency", "staging to")))
    return command, " ".join(words)


def inputs() -> list[tuple[str, str, str, str]]:
    """(user, channel, command, text), from the seed."""
    rng = random.Random(SEED)
    found = []
    for _ in range(INPUTS):
        command, text = _text(rng)
        found.append((rng.choice(PEOPLE), rng.choice((DEPLOYS, INCIDENTS)), command, text))
    return found


@pytest.fixture
def fuzz_edge(redis_url: str) -> Iterator[Edge]:
    everyone = list(PEOPLE)
    with running_edge(
        redis_url,
        users=[SlackUser(u, u.lower()) for u in PEOPLE],
        channels=[SlackChannel(DEPLOYS, "deploys", everyone),
                  SlackChannel(INCIDENTS, "incidents", everyone)],
        usergroups=[SlackUserGroup(STAKEHOLDERS, "stakeholders", [STAKE]),
                    SlackUserGroup(ONCALL, "oncall", [ONCALL_USER])],
    ) as edge:
        yield edge


def replies(edge: Edge, acks: list[dict[str, Any]]) -> list[str]:
    """Every text the bot put in front of someone."""
    texts: list[str] = []
    for ack in acks:
        texts.extend(texts_of(ack))
    for channel in (DEPLOYS, INCIDENTS):
        for message in edge.emulator.history(channel):
            texts.extend(texts_of(message))
            for reply in edge.emulator.replies(channel, str(message["ts"]))[1:]:
                texts.extend(texts_of(reply))
    for user in PEOPLE:
        for message in edge.emulator.ephemerals(user):
            texts.extend(texts_of(message))
        for view in edge.emulator.open_views(user):
            texts.extend(texts_of(view))
    return texts


def test_no_reply_echoes_a_control_sequence_of_its_input(fuzz_edge: Edge) -> None:
    edge = fuzz_edge
    tried = inputs()
    started = time.monotonic()

    def send(entry: tuple[str, str, str, str]) -> dict[str, Any]:
        user, channel, command, text = entry
        return edge.emulator.command(user, channel, f"{command} {text}".rstrip())

    with ThreadPoolExecutor(SENDERS) as pool:
        results = list(pool.map(send, tried))
    edge.settle()
    sending = time.monotonic() - started

    statuses = [r.get("status") for r in results]
    five_xx = sum(1 for s in statuses if isinstance(s, int) and s >= 500)
    acks = [r["ack"] for r in results if isinstance(r.get("ack"), dict)]
    texts = replies(edge, acks)
    users = set(PEOPLE) | {edge.emulator.workspace.bot_user_id}
    echoes = [(t, foreign_sequences(t, users, {DEPLOYS, INCIDENTS})) for t in texts]
    unescaped = [(t[:200], seqs) for t, seqs in echoes if seqs]
    # an entity of the input echoed as is: Slack would decode it (escaped, its & is &amp;)
    decoded = [t[:200] for t in texts if any(
        mark in t for mark in (f"&lt;!{ENTITY_MARK}", f"&lt;@{ENTITY_MARK}",
                               f"&amp;lt;{ENTITY_MARK}"))]
    print(f"\necho fuzz, seed {SEED}: {len(tried)} inputs in {sending:.1f} s; "
          f"{len(texts)} reply texts read; 5xx: {five_xx}; unescaped echoes: "
          f"{len(unescaped) + len(decoded)}")

    assert five_xx == 0 and all(s == 200 for s in statuses), sorted(set(map(str, statuses)))
    assert unescaped == []
    assert decoded == []
    # a healthy bot after: it answers, and says what runs
    result = edge.command("/promote status", user=STAKE)
    assert result["status"] == 200
    edge.wait_ephemeral(STAKE, "Status of myapp per environment")
    with urllib.request.urlopen(f"{edge.url}/readyz", timeout=5) as ready:
        assert ready.status == 200
    edge.settle()
