"""Fixtures for the core: a store on the real redis-server, and an engine wired to our fakes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis

from slackbot.config import load_pipeline
from slackbot.engine import Engine
from slackbot.incidents import Incidents
from slackbot.store import RedisStore
from tests.core.fakes import (
    FakeClock,
    FakeCluster,
    FakeDirectory,
    FakeForge,
    FakeWorkspace,
    RecordingNotifier,
)

DEVELOPER, REVIEWER, STAKEHOLDER, STAKEHOLDER2, OUTSIDER = (
    "U0DEV", "U0REVIEW", "U0STAKE", "U0STAKE2", "U0OUT")


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}:"


@pytest.fixture
def store(redis_client: redis.Redis, prefix: str) -> RedisStore:
    return RedisStore(redis_client, prefix=prefix)


def snapshot(client: redis.Redis, prefix: str) -> dict[str, object]:
    """Every key under the prefix with its value, to prove that nothing changed."""
    state: dict[str, object] = {}
    for key in sorted(client.scan_iter(f"{prefix}*")):
        kind = client.type(key)
        if kind == "string":
            state[key] = client.get(key)
        elif kind == "hash":
            state[key] = client.hgetall(key)
        elif kind == "set":
            state[key] = sorted(client.smembers(key))
        elif kind == "zset":
            state[key] = client.zrange(key, 0, -1, withscores=True)
        elif kind == "stream":
            state[key] = client.xrange(key)
        else:
            state[key] = kind
    return state


@dataclass
class World:
    engine: Engine
    store: RedisStore
    forge: FakeForge
    cluster: FakeCluster
    directory: FakeDirectory
    notifier: RecordingNotifier
    clock: FakeClock
    workspace: FakeWorkspace
    incidents: Incidents

    def deploy_all(self) -> None:
        """Every env runs the head of its own branch, Ready."""
        for env in ("dev", "staging", "prod"):
            self.cluster.deploy(f"myapp-{env}", env, self.forge.heads[env])

    def push_dev(self) -> str:
        sha = self.forge.push("dev")
        self.cluster.deploy("myapp-dev", "dev", sha)
        return sha


@pytest.fixture
def world(store: RedisStore) -> World:
    pipeline = load_pipeline(None)
    forge = FakeForge()
    for branch in ("dev", "staging", "prod"):
        forge.push(branch)
    cluster = FakeCluster()
    directory = FakeDirectory({"S0STAKEHOLDERS": {STAKEHOLDER, STAKEHOLDER2, DEVELOPER},
                               "S0ONCALL": {"U0ONCALL"}})
    notifier = RecordingNotifier()
    clock = FakeClock()
    workspace = FakeWorkspace(forge)
    engine = Engine(pipeline, store, forge, cluster, directory, notifier, clock,
                    workspace=workspace)
    w = World(engine, store, forge, cluster, directory, notifier, clock, workspace,
              Incidents(engine, workspace))
    w.deploy_all()
    cluster.set_status("myapp-staging", applied=cluster.kustomizations["myapp-staging"]
                       .last_applied_revision, depends_on=("myapp-dev",))
    cluster.set_status("myapp-prod", applied=cluster.kustomizations["myapp-prod"]
                       .last_applied_revision, depends_on=("myapp-staging",))
    return w
