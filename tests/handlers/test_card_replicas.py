"""Card updates stay in record order across replicas: two notifiers (two replicas' card
renderers, each with its own workers) over one real Redis and the Slack emulator. One replica
is held in the middle of a render while the record moves on and the other is told of it; the
card must never show an older version of the record than it showed before."""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import redis
from slack_sdk import WebClient

from handlers.notifier import SlackNotifier
from handlers.pacing import Pacing
from sandbox.slack import SlackChannel, SlackEmulator, SlackUser
from slackbot.adapters.redis_store import RedisStore
from slackbot.config import load_pipeline
from slackbot.events import Event, Requested
from slackbot.models import Kind, Promotion, State
from slackbot.timers import Later
from slackbot.workers import Workers
from tests.handlers.conftest import DEPLOYS, DEV, SECRET, TOKEN, wait_for

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PATH = (State.REQUESTED, State.PR_OPEN, State.AWAITING_GATES, State.MERGING,
        State.RECONCILING, State.DEPLOYED)


class HeldStore(RedisStore):
    """The same Redis, with a render that can be stopped after it read where the card is (and
    so which version the card shows) and before it updates the card."""

    def __init__(self, client: redis.Redis, prefix: str):
        super().__init__(client, prefix=prefix)
        self.armed = threading.Event()
        self.held = threading.Event()
        self.release = threading.Event()

    def notice(self, promotion_id: int) -> str | None:
        found = super().notice(promotion_id)
        if self.armed.is_set():
            self.armed.clear()
            self.held.set()
            self.release.wait(60)
        return found


@dataclass
class Replica:
    notifier: SlackNotifier
    workers: Workers
    later: Later

    def idle(self) -> bool:
        return self.workers.idle() and self.later.pending() == 0


@dataclass
class Two:
    emulator: SlackEmulator
    store: RedisStore  # the test's own writes
    held: HeldStore  # replica a's
    a: Replica
    b: Replica

    def card_labels(self, record: Promotion) -> list[str]:
        """The state each version of the record's card showed, oldest first."""
        messages = [m for m in self.emulator.history(DEPLOYS) if f"-{record.id} of" in m["text"]]
        assert len(messages) == 1, "one card per record"
        versions = self.emulator.message_versions(DEPLOYS, messages[0]["ts"])
        return [next(s.label for s in sorted(PATH, key=lambda s: -len(s.label))
                     if v["text"].endswith(s.label)) for v in versions]

    def settle(self) -> None:
        wait_for(lambda: self.a.idle() and self.b.idle(), what="both replicas' cards rendered")


class Ticking:
    """A monotonic clock a minute further on at each reading: a card's update pace (one a
    second) never holds a render back, so a held render goes on to update the card."""

    def __init__(self) -> None:
        self._now = itertools.count(step=60)

    def __call__(self) -> float:
        return float(next(self._now))


def _replica(store: RedisStore, emulator: SlackEmulator, owner: str) -> Replica:
    workers = Workers(4, name=f"card-{owner}")
    later = Later(workers.submit, name=f"later-{owner}")
    notifier = SlackNotifier(WebClient(token=TOKEN, base_url=emulator.api_url),
                             load_pipeline(None), store, workers.submit, later=later,
                             pacing=Pacing(store, clock=Ticking()), owner=owner)
    return Replica(notifier, workers, later)


@pytest.fixture
def two(redis_url: str) -> Iterator[Two]:
    prefix = f"cards{random.getrandbits(40):x}:"
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    emulator = SlackEmulator(SECRET, TOKEN, users=[SlackUser(DEV, "dana")],
                             channels=[SlackChannel(DEPLOYS, "deploys", [DEV])]).start()
    held = HeldStore(client, prefix)
    store = RedisStore(client, prefix=prefix)
    pair = Two(emulator, store, held, _replica(held, emulator, "replica-a"),
               _replica(store, emulator, "replica-b"))
    try:
        yield pair
    finally:
        held.release.set()
        for replica in (pair.a, pair.b):
            replica.later.stop()
            replica.workers.stop()
        emulator.stop()
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        client.close()


def _event(p: Promotion) -> Event:
    return Event(p.id, p.app, p.env, DEV, NOW, Requested("a" * 40))


def _requested(store: RedisStore, env: str = "staging", source: str = "dev") -> Promotion:
    p = Promotion(id=store.next_id(), kind=Kind.PROMOTION, app="myapp", env=env,
                  source_branch=source, target_branch=env, requested_by=DEV,
                  requested_at=NOW, head_sha="a" * 40)
    return store.create(p, _event(p))


def _step(store: RedisStore, p: Promotion, state: State) -> Promotion:
    changes = {"merge_sha": "b" * 40} if state is State.MERGING else {}
    if state is State.DEPLOYED:
        changes["finished_at"] = NOW
    return store.transition(p, _event(p), state, **changes)


def _in_order(labels: list[str]) -> bool:
    order = [s.label for s in PATH]
    places = [order.index(label) for label in labels]
    return places == sorted(places)


def test_a_held_render_on_one_replica_never_overwrites_a_newer_card(two: Two) -> None:
    record = _requested(two.store)
    two.a.notifier.promotion_changed(record, _event(record))
    two.settle()
    assert two.card_labels(record) == [State.REQUESTED.label]

    record = _step(two.store, record, State.PR_OPEN)
    two.held.armed.set()
    two.a.notifier.promotion_changed(record, _event(record))  # a reads v2, then is held
    assert two.held.held.wait(60), "replica a never reached its card"

    record = _step(two.store, record, State.AWAITING_GATES)
    two.b.notifier.promotion_changed(record, _event(record))  # b is told of v3 meanwhile
    # b either waits for a's render (the claim) or, were there none, updates the card now
    wait_for(lambda: two.b.later.pending() > 0 or len(two.card_labels(record)) > 1,
             what="replica b to wait for the card, or to update it")
    two.held.release.set()
    two.settle()

    labels = two.card_labels(record)
    assert labels[-1] == State.AWAITING_GATES.label, labels
    assert _in_order(labels), labels


def test_changes_told_to_either_replica_at_random_end_in_order(two: Two) -> None:
    chooser = random.Random(14)
    records = [_requested(two.store), _requested(two.store, "prod", "staging")]
    for record in records:
        two.b.notifier.promotion_changed(record, _event(record))
    for state in PATH[1:]:
        for i, record in enumerate(records):
            records[i] = _step(two.store, record, state)
            replica = chooser.choice((two.a, two.b))
            replica.notifier.promotion_changed(records[i], _event(records[i]))
    two.settle()
    for record in records:
        labels = two.card_labels(record)
        assert labels[-1] == State.DEPLOYED.label, labels
        assert _in_order(labels), labels
