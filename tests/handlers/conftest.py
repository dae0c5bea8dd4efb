"""The Slack edge under test: the real Bolt app behind waitress on a loopback port, the Slack
emulator sending it signed requests, and the engine on the real redis-server with the core's
fakes for GitHub and the cluster (wrapped to record, and optionally hold, every call)."""

from __future__ import annotations

import contextlib
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast
from urllib.parse import urlencode, urlsplit

import pytest
import redis
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from handlers import ids
from handlers.web import WebApp
from promotebot.wiring import Adapters, Bot, Tuning, build
from sandbox.slack import SlackChannel, SlackEmulator, SlackUser, SlackUserGroup
from sandbox.slack.workspace import trigger_ttl
from slackbot.adapters.redis_store import RedisStore
from slackbot.config import load_pipeline
from slackbot.engine import Core
from slackbot.models import Promotion
from slackbot.pipeline import Pipeline
from slackbot.ports import Cluster, Forge, Workspace
from slackbot.settings import load_settings
from tests import waiting
from tests.blockkit import validate_bot_output
from tests.core.fakes import FakeClock, FakeCluster, FakeForge, FakeWorkspace

SECRET = "edge-test-signing-secret"
TOKEN = "xoxb-edge-test-token"
# The ids of the default pipeline's roles (its developer and reviewer lists name U0DEV and
# U0REVIEW; the stakeholder and oncall roles are the user groups below).
DEV, REVIEWER, STAKE, STAKE2, OUTSIDER = (
    "U0DEV",
    "U0REVIEW",
    "U0STAKE",
    "U0STAKE2",
    "U0OUT",
)
DEPLOYS, INCIDENTS = "C0DEPLOYS", "C0INCIDENT"
STAKEHOLDERS, ONCALL = "S0STAKEHOLDERS", "S0ONCALL"
SRE, PRODUCT = "S0SRE", "S0PRODUCT"  # approvers by group share (gates.approvers.atLeast)


def wait_for(predicate: Callable[[], Any], what: str = "condition",
             timeout: float = waiting.WAIT) -> Any:
    """The suite's one bounded wait (tests/waiting.py)."""
    return waiting.wait_for(predicate, what, timeout)


class Order:
    """The order in which things happened across threads, and a gate that holds the outside
    world (forge and cluster calls) until the test has seen Slack receive the ack."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self._lock = threading.Lock()
        self._open = threading.Event()
        self._open.set()

    def note(self, what: str) -> None:
        with self._lock:
            self.log.append(what)

    def hold(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def wait(self) -> None:
        self._open.wait(timeout=5)

    def outside_calls(self) -> list[str]:
        with self._lock:
            return [e for e in self.log if e.startswith(("forge", "cluster", "workspace"))]


class Recording:
    """Delegates a port to a fake; notes each call and waits while the gate is held."""

    def __init__(self, target: Any, name: str, order: Order) -> None:
        self._target = target
        self._name = name
        self._order = order

    def __getattr__(self, attr: str) -> Any:
        found = getattr(self._target, attr)
        if not callable(found):
            return found

        def call(*args: Any, **kwargs: Any) -> Any:
            self._order.wait()  # a call held here has not reached the outside world yet
            self._order.note(f"{self._name} {attr}")
            return found(*args, **kwargs)

        return call


@dataclass
class Edge:
    emulator: SlackEmulator
    bot: Bot
    store: RedisStore
    forge: FakeForge
    cluster: FakeCluster
    clock: FakeClock
    order: Order
    workspace: FakeWorkspace
    url: str
    redis: redis.Redis
    prefix: str
    probes: dict[str, bool] = field(default_factory=dict)

    @property
    def core(self) -> Core:
        return self.bot.core

    @property
    def web(self) -> WebApp:
        return self.bot.web

    @property
    def events_url(self) -> str:
        return f"{self.url}/slack/events"

    def command(self, text: str, user: str = DEV, channel: str = DEPLOYS) -> dict[str, Any]:
        result = self.emulator.command(user, channel, text)
        assert result["status"] == 200, result
        return result

    def click(self, user: str, action_id: str, ts: str, channel: str = DEPLOYS) -> dict[str, Any]:
        result = self.emulator.click(user, action_id, channel=channel, ts=ts)
        assert result["status"] == 200, result
        return result

    def cards(self, channel: str = DEPLOYS) -> list[dict[str, Any]]:
        """The bot's promotion cards in the channel, oldest first."""
        return [
            m
            for m in reversed(self.emulator.history(channel))
            if m.get("user") == self.emulator.workspace.bot_user_id
            and any(b.get("block_id") == ids.CARD_HEADER for b in m.get("blocks") or [])
        ]

    def card_of(self, record_id: int) -> dict[str, Any]:
        return wait_for(lambda: self._card(record_id), what=f"card of record {record_id}")

    def _card(self, record_id: int) -> dict[str, Any] | None:
        """The record's card, in the deploys channel or (rollbacks, hotfixes) where asked."""
        return next((m for channel in (DEPLOYS, INCIDENTS) for m in self.cards(channel)
                     if f"-{record_id} of" in m["text"]), None)

    def working_notes(self, user: str) -> list[str]:
        """The "On it…" notes the user still sees: each is replaced by its answer."""
        return [t for t in self.ephemeral_texts(user) if t.startswith(
            ":hourglass_flowing_sand: On it")]

    def settle(self) -> None:
        """Wait until every listener, and the work it handed the bot's workers, has finished."""
        wait_for(self.bot.idle, what="listeners and the workers finished")

    def wait_card(
        self, record_id: int, predicate: Callable[[dict[str, Any]], bool], what: str
    ) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            card = self.card_of(record_id)
            return card if predicate(card) else None

        return wait_for(found, what=what)

    def wait_state(self, record_id: int, *states: str) -> Promotion:
        def reached() -> Promotion | None:
            record = self.store.get(record_id)
            card = self._card(record_id)
            if record is None or record.state.value not in states or card is None:
                return None
            return record if card["text"].endswith(record.state.label) else None

        return wait_for(reached, what=f"record {record_id} in {states} on its card")

    def ephemeral_texts(self, user: str) -> list[str]:
        return [m.get("text", "") for m in self.emulator.ephemerals(user)]

    def wait_ephemeral(self, user: str, needle: str) -> str:
        return wait_for(
            lambda: next((t for t in self.ephemeral_texts(user) if needle in t), None),
            what=f"an ephemeral for {user} with {needle!r}",
        )

    def post(self, body: str, headers: dict[str, str]) -> tuple[int, str]:
        request = urllib.request.Request(
            self.events_url, data=body.encode(), method="POST", headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def signed_post(
        self,
        body: str,
        timestamp: int | None = None,
        extra: dict[str, str] | None = None,
        content_type: str | None = None,
    ) -> tuple[int, str]:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        signature = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)
        headers = {
            "Content-Type": content_type or "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
            **(extra or {}),
        }
        return self.post(body, headers)

    def command_body(self, text: str, user: str = DEV, channel: str = DEPLOYS) -> str:
        """A slash command as Slack sends it, with a response_url the emulator serves."""
        ws = self.emulator.workspace
        trigger = ws.issue_trigger(user)
        url_id = ws.issue_response_url(user, channel, None, False)
        return urlencode(
            {
                "token": "x",
                "team_id": "T0SANDBOX",
                "team_domain": "sandbox",
                "channel_id": channel,
                "channel_name": "deploys",
                "user_id": user,
                "user_name": user.lower(),
                "command": "/promote",
                "text": text,
                "api_app_id": "A0SANDBOX",
                "is_enterprise_install": "false",
                "response_url": f"{self.emulator.url}/response/{url_id}",
                "trigger_id": trigger,
            }
        )

    def snapshot(self) -> dict[str, object]:
        from tests.core.conftest import snapshot

        return snapshot(self.redis, self.prefix)



def validate_everything(edge: Edge) -> int:
    """Parses every block and view the bot sent with slack_sdk's models; returns the count."""
    return validate_bot_output(edge.emulator)


DEFAULT_USERS = (
    SlackUser(DEV, "dana"),
    SlackUser(REVIEWER, "rui"),
    SlackUser(STAKE, "sam"),
    SlackUser(STAKE2, "sue"),
    SlackUser(OUTSIDER, "olga"),
)


@contextlib.contextmanager
def running_edge(
    redis_url: str,
    users: Sequence[SlackUser] = DEFAULT_USERS,
    channels: Sequence[SlackChannel] | None = None,
    usergroups: Sequence[SlackUserGroup] | None = None,
    pipeline: Pipeline | None = None,
    seed: Callable[[RedisStore, datetime], None] | None = None,
) -> Iterator[Edge]:
    """The real bot (default pipeline) behind the Slack emulator, over the fakes and Redis.
    `seed` writes records into the store before the bot starts (given the clock's now): a
    record a running bot could see half-written would be taken up by its resume or its
    lease's duties."""
    prefix = f"e{uuid.uuid4().hex[:10]}:"
    client_redis = redis.Redis.from_url(redis_url, decode_responses=True)
    store = RedisStore(client_redis, prefix=prefix)
    emulator = SlackEmulator(
        SECRET,
        TOKEN,
        users=list(users),
        channels=list(channels) if channels is not None else [
            SlackChannel(DEPLOYS, "deploys", [DEV, REVIEWER, STAKE, STAKE2, OUTSIDER]),
            SlackChannel(INCIDENTS, "incidents", [DEV, STAKE]),
        ],
        usergroups=list(usergroups) if usergroups is not None else [
            SlackUserGroup(STAKEHOLDERS, "stakeholders", [DEV, STAKE, STAKE2]),
            SlackUserGroup(ONCALL, "oncall", [STAKE]),
            SlackUserGroup(SRE, "sre", [STAKE, REVIEWER]),
            SlackUserGroup(PRODUCT, "product", [STAKE2]),
        ],
        trigger_seconds=trigger_ttl(),
    ).start()
    order = Order()
    forge, cluster, clock = FakeForge(), FakeCluster(), FakeClock()
    for branch in ("dev", "staging", "prod"):
        forge.push(branch)
        cluster.deploy(f"myapp-{branch}", branch, forge.heads[branch])
    workspace = FakeWorkspace(forge)
    if seed is not None:
        seed(store, clock.now())
    probes: dict[str, bool] = {"redis": True, "github": True}
    adapters = Adapters(
        store=store,
        forge=cast(Forge, Recording(forge, "forge", order)),
        cluster=cast(Cluster, Recording(cluster, "cluster", order)),
        workspace=cast(Workspace, Recording(workspace, "workspace", order)),
        slack=WebClient(token=TOKEN, base_url=emulator.api_url),
        clock=clock,
        probes={"redis": lambda: store.ping() and probes["redis"],
                "github": lambda: probes["github"]},
    )
    settings = load_settings({
        "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": emulator.api_url, "GITHUB_TOKEN": "ghp_unused_by_the_fakes",
        "PROMOTEBOT_HOST": "127.0.0.1", "PROMOTEBOT_PORT": "0",
        "PROMOTEBOT_POLL_SECONDS": "3600",  # the tests tick the runner themselves
        "SLACK_RESPONSE_URL_HOSTS": urlsplit(emulator.url).netloc,
    })
    bot = build(settings, pipeline or load_pipeline(None), adapters,
                # readiness probes answer in microseconds, but on a loaded machine their
                # threads may not run within production's 1.5 s: a bound no load exhausts
                tuning=Tuning(redis_prefix=prefix, listener_threads=5,
                              readiness_deadline=60.0)).start()
    emulator.bot_request_url = bot.slack_request_url
    assert bot.url is not None
    running = Edge(emulator, bot, store, forge, cluster, clock, order, workspace, bot.url,
                   client_redis, prefix, probes)
    try:
        yield running
        running.settle()
        validate_everything(running)
    finally:
        order.release()
        bot.stop()
        emulator.stop()
        for key in client_redis.scan_iter(f"{prefix}*"):
            client_redis.delete(key)
        client_redis.close()


@pytest.fixture
def edge(redis_url: str) -> Iterator[Edge]:
    with running_edge(redis_url) as running:
        yield running


@pytest.fixture
def edge_with(redis_url: str) -> Iterator[Callable[[Pipeline], Edge]]:
    """The edge over a pipeline of the test's own (same people, channels and groups)."""
    with contextlib.ExitStack() as stack:
        yield lambda pipeline: stack.enter_context(running_edge(redis_url, pipeline=pipeline))
