"""Several `promotebot serve` processes on one Redis against the emulated world, and the kill -9
of the leader in the middle of a merge: what tests/e2e/test_failover.py asserts and
benchmarks/bench_failover.py times.

The leader is found from the lease in Redis (its owner names the process id). A merge is held
in the GitHub emulator until released, so the kill lands while the record is in `merging`
with its env lock held; released after the kill, the merge completes on GitHub with nobody
to hear the answer, as a merge whose response was lost does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis
from github import Auth, Github

from handlers.messages.card import fallback
from sandbox.bot import SANDBOX_WEBHOOK_SECRET
from sandbox.gitseed import commit_and_push, run_git
from sandbox.world import DEPLOYS, World, person
from slackbot.adapters.redis_store import RedisStore
from slackbot.lease import LEASE
from slackbot.models import Promotion, State
from tests.redis_server import free_port
from tests.waiting import STARTUP, wait_for

PREFIX = "promotebot:"  # what `serve` uses
LEASE_SECONDS = 3.0


@dataclass
class Replica:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/readyz", timeout=5) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False


def _environment(world: World, redis_url: str, port: int) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "GITHUB_", "REDIS_", "PROMOTEBOT_", "KUBE"))}
    return {**base, **world.bot_environment, "REDIS_URL": redis_url,
            "GITHUB_WEBHOOK_SECRET": SANDBOX_WEBHOOK_SECRET, "PROMOTEBOT_HOST": "127.0.0.1",
            "PROMOTEBOT_PORT": str(port), "PROMOTEBOT_POLL_SECONDS": "1",
            "PROMOTEBOT_LEASE_SECONDS": str(LEASE_SECONDS),
            "PROMOTEBOT_REDIS_PERSISTENCE": "optional", "PROMOTEBOT_LOG_FORMAT": "text"}


@contextmanager
def replicas(world: World, redis_url: str, count: int, workdir: Path) -> Iterator[list[Replica]]:
    started: list[Replica] = []
    try:
        for n in range(count):
            port = free_port()
            log = workdir / f"replica-{n}.log"
            with log.open("wb") as out:
                proc = subprocess.Popen([sys.executable, "-m", "promotebot.cli", "serve"],
                                        env=_environment(world, redis_url, port), stdout=out,
                                        stderr=subprocess.STDOUT)
            started.append(Replica(proc, f"http://127.0.0.1:{port}", log))
        for replica in started:
            wait_for(lambda r=replica: r.ready() or r.proc.poll() is not None,
                     f"replica {replica.pid} ready", timeout=STARTUP)
            assert replica.proc.poll() is None, replica.log.read_text()[-3000:]
        yield started
    finally:
        for replica in started:
            if replica.proc.poll() is None:
                replica.proc.send_signal(signal.SIGTERM)
        for replica in started:
            try:
                replica.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                replica.proc.kill()
                replica.proc.wait()


def leader_pid(client: redis.Redis) -> int | None:
    value = client.get(f"{PREFIX}lock:{LEASE[0]}:{LEASE[1]}")
    if not value:
        return None
    owner = str(value).rsplit(":", 1)[0]  # "<host>-<pid>-<suffix>:<token>"
    return int(owner.rsplit("-", 2)[1])


def route_to(world: World, replica: Replica) -> None:
    """Slack and GitHub reach this replica (as a Service would pick one)."""
    world.slack.bot_request_url = f"{replica.url}/slack/events"
    world.github.hooks.configure(f"{replica.url}/github/webhook", SANDBOX_WEBHOOK_SECRET)


class MergeHold:
    """Holds the GitHub emulator's merges until released; says when one is being held."""

    def __init__(self) -> None:
        self.held = threading.Event()
        self._release = threading.Event()

    def __call__(self, method: str, path: str) -> None:
        if method == "PUT" and path.endswith("/merge"):
            self.held.set()
            self._release.wait(timeout=120)

    def release(self) -> None:
        self._release.set()


@dataclass
class Failover:
    handover_seconds: float  # the kill to another replica holding the lease
    resumed_seconds: float  # the kill to the record leaving `merging`
    finished_seconds: float  # the kill to the record deployed
    merges: int  # merge commits the promotion put on staging
    cards: int  # messages in the channel that are this record's card
    final: Promotion
    card_text: str = ""
    replicas_left: list[int] = field(default_factory=list)


def kill_leader_mid_merge(world: World, redis_url: str, workdir: Path,
                          count: int = 3) -> Failover:
    """A staging promotion through `count` replicas; the leader killed (SIGKILL) while its
    merge is in flight; the figures of what followed."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    store = RedisStore(client, prefix=PREFIX)
    dev = person("developer").slack_id
    with replicas(world, redis_url, count, workdir) as running:
        leader_id = wait_for(lambda: leader_pid(client), "a leader among the replicas")
        leader = next(r for r in running if r.pid == leader_id)
        route_to(world, leader)
        sha = commit_and_push(world.github.clone_url, "dev", {"apps/myapp/NOTES.md": "kill\n"},
                              "a change to promote", workdir)
        wait_for(lambda: _deployed(world, "dev", sha), "dev to run the change")
        before = run_git("--git-dir", str(world.repo.path), "rev-parse", "staging")
        reply = world.slack.command(dev, DEPLOYS, "/promote staging")
        assert reply["status"] == 200, reply
        record = wait_for(lambda: (r := store.live("myapp", "staging")) is not None
                          and r.state is State.AWAITING_GATES and r, "awaiting gates")
        hold = MergeHold()
        world.github.before_request = hold
        world.github.set_check(sha, "ci", "success")
        reviewer = Github(auth=Auth.Token(person("reviewer").github_token),
                          base_url=world.github.url, retry=None, seconds_between_requests=None,
                          seconds_between_writes=None)
        reviewer.get_repo("acme/myapp").get_pull(record.pr_number).create_review(event="APPROVE")
        wait_for(hold.held.is_set, "the leader's merge to reach GitHub")
        assert store.get(record.id).state is State.MERGING  # type: ignore[union-attr]
        leader.proc.send_signal(signal.SIGKILL)
        leader.proc.wait(timeout=30)
        killed = time.monotonic()
        hold.release()  # the merge completes on GitHub; its answer reaches nobody
        survivors = [r for r in running if r is not leader]
        route_to(world, survivors[0])
        wait_for(lambda: leader_pid(client) in {r.pid for r in survivors}, "a new leader")
        handover = time.monotonic() - killed
        wait_for(lambda: store.get(record.id).state is not State.MERGING,  # type: ignore[union-attr]
                 "the record to leave merging")
        resumed = time.monotonic() - killed
        final = wait_for(lambda: (r := store.get(record.id)) is not None and not r.live and r,
                         "the record to finish")
        finished = time.monotonic() - killed
        world.github.before_request = None
        card = wait_for(lambda: _final_card(world, store, final), "the card's final state")
        merges = len(run_git("--git-dir", str(world.repo.path), "rev-list", "--merges",
                             f"{before}..staging").split())
        cards = sum(1 for m in world.slack.history(DEPLOYS)
                    if m.get("text", "").startswith(f"Promotion {final.name} of "))
        return Failover(handover, resumed, finished, merges, cards, final, card,
                        [r.pid for r in survivors])


def _deployed(world: World, env: str, sha: str) -> bool:
    obj = world.cluster.store.get("kustomizations", "flux-system", f"myapp-{env}")
    status = obj.get("status") or {}
    ready = [c for c in status.get("conditions", []) if c.get("type") == "Ready"]
    return bool(status.get("lastAppliedRevision") == f"{env}@sha1:{sha}" and ready
                and ready[0].get("status") == "True")


def _final_card(world: World, store: RedisStore, record: Promotion) -> str | None:
    raw = store.notice(record.id)
    if raw is None:
        return None
    ts = json.loads(raw)["ts"]
    for message in world.slack.history(DEPLOYS):
        if message["ts"] == ts and message.get("text") == fallback(record):
            return str(message.get("text"))
    return None
