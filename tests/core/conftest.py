"""Fixtures for the core: a store on the real redis-server, and an engine wired to our fakes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis

from slackbot import engine
from slackbot.adapters.redis_store import RedisStore
from slackbot.config import load_pipeline
from slackbot.engine import Core
from slackbot.models import Promotion
from slackbot.pipeline import Pipeline
from slackbot.workers import InlineWorkers
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
    core: Core
    store: RedisStore
    forge: FakeForge
    cluster: FakeCluster
    directory: FakeDirectory
    notifier: RecordingNotifier
    clock: FakeClock
    workspace: FakeWorkspace

    def deploy_all(self) -> None:
        """Every env runs the head of its own branch, Ready."""
        for env in ("dev", "staging", "prod"):
            self.cluster.deploy(f"myapp-{env}", env, self.forge.heads[env])

    def requested(self, env: str, user: str = DEVELOPER, **kwargs: Any) -> Promotion:
        """A promotion into `env` requested, and advanced as far as the world allows."""
        return self.core.steps.advance(self.core.commands.request("myapp", env, user,
                                                                  **kwargs).id)

    def hotfix_promoted(self, name: str, user: str = DEVELOPER) -> Promotion:
        return self.core.steps.advance(self.core.incidents.hotfix_promote("myapp", name,
                                                                          user).id)

    def push_dev(self) -> str:
        sha = self.forge.push("dev")
        self.cluster.deploy("myapp-dev", "dev", sha)
        return sha


def build_core(pipeline: object, store: RedisStore, forge: FakeForge, cluster: FakeCluster,
               directory: FakeDirectory, notifier: RecordingNotifier, clock: FakeClock,
               workspace: FakeWorkspace, owner: str = "promotebot") -> Core:
    """The engine over the fakes, its work run inline (a wake advances the record at once)."""
    ports = engine.Ports(store, forge, cluster, directory, notifier, clock, workspace)
    return engine.build(pipeline, ports, InlineWorkers().submit,  # type: ignore[arg-type]
                        engine.Options(owner=owner))


@pytest.fixture
def world(store: RedisStore) -> World:
    return new_world(store, load_pipeline(None))


def new_world(store: RedisStore, pipeline: Pipeline) -> World:
    """A world over `pipeline` (its app must be myapp with dev, staging and prod)."""
    forge = FakeForge()
    for branch in ("dev", "staging", "prod"):
        forge.push(branch)
    cluster = FakeCluster()
    directory = FakeDirectory({"S0STAKEHOLDERS": {STAKEHOLDER, STAKEHOLDER2, DEVELOPER},
                               "S0ONCALL": {"U0ONCALL"}})
    notifier = RecordingNotifier()
    clock = FakeClock()
    workspace = FakeWorkspace(forge)
    w = World(build_core(pipeline, store, forge, cluster, directory, notifier, clock, workspace),
              store, forge, cluster, directory, notifier, clock, workspace)
    w.deploy_all()
    cluster.set_status("myapp-staging", applied=cluster.kustomizations["myapp-staging"]
                       .last_applied_revision, depends_on=("myapp-dev",))
    cluster.set_status("myapp-prod", applied=cluster.kustomizations["myapp-prod"]
                       .last_applied_revision, depends_on=("myapp-staging",))
    return w
