"""The composition root: the one place that builds adapters and wires the core, the Slack edge,
the shared Flux watch, the scheduler and the HTTP server together.

`build(settings, pipeline, adapters)` makes a `Bot`; `promotebot serve`, the sandbox and the
tests all use it (the tests hand in adapters of their own). Observability is wired around the
core without changing it: counted adapters and a metrics notifier (slackbot.metrics), log
context for worker and webhook work (slackbot.logs). `Bot.start` resumes every live record a
previous process left before it takes new requests; `Bot.stop` drains everything it started.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from apscheduler.schedulers.background import BackgroundScheduler
from kubernetes import client as k8s
from slack_sdk import WebClient

from handlers.app import build_app, make_client
from handlers.directory import SlackDirectory
from handlers.home import HomePublisher, read_statuses
from handlers.notifier import CardRef, SlackNotifier
from handlers.response_urls import ResponseUrls
from handlers.response_urls import middleware as response_urls_middleware
from handlers.services import Services
from handlers.web import RunningServer, WebApp, serve_background
from slackbot import engine, logs, webhooks
from slackbot.adapters.flux import KubeCluster, api_client
from slackbot.adapters.flux_watch import KustomizationWatch
from slackbot.adapters.github import GitHubForge, github_client
from slackbot.adapters.redis_store import RedisStore, open_redis
from slackbot.adapters.workspace import GitWorkspace
from slackbot.clock import SystemClock
from slackbot.engine.lookup import Lookup
from slackbot.lease import LeaderLease
from slackbot.metrics import CountingProxy, Metrics, MetricsNotifier, counted
from slackbot.pipeline import Pipeline
from slackbot.ports import Clock, Cluster, Directory, Forge, KustomizationStatus, Store, Workspace
from slackbot.settings import GitHubApp, Settings
from slackbot.status import StatusReader
from slackbot.workers import Workers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tuning:
    """Knobs the sandbox and the tests turn; production keeps the defaults."""

    github_throttle: bool = True  # PyGithub's own pacing of requests (GitHub's guidance)
    watch_timeout_seconds: int = 60
    listener_threads: int = 8  # Bolt's listeners only ack and hand work to the workers
    worker_threads: int = 16  # the bot's workers: every outside call after an ack
    lease_seconds: float = 15.0  # the leader lease's time to live (renewed every third of it)
    due_seconds: float = 5.0  # how often the leader looks for due reminders and expiries
    redis_prefix: str = "promotebot:"


@dataclass
class Adapters:
    """The outside world as the core's ports, plus what the edges need (Slack, the kube API
    for the watch). `from_settings` builds the production ones; tests build their own."""

    store: Store
    forge: Forge
    cluster: Cluster
    workspace: Workspace
    slack: WebClient
    clock: Clock = field(default_factory=SystemClock)
    directory: Directory | None = None  # default: Slack user groups through `slack`
    kube: k8s.ApiClient | None = None  # None: no shared watch (the tests' fake cluster)
    probes: dict[str, Callable[[], bool]] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings, tuning: Tuning,
                      clock: Clock | None = None) -> Adapters:
        store = RedisStore(open_redis(settings.redis_url.reveal() if settings.redis_url else None),
                           prefix=tuning.redis_prefix)
        forge = GitHubForge(_github(settings, fast=not tuning.github_throttle))
        kube = api_client(settings.kube_api_url)
        cluster = KubeCluster(kube)
        return cls(
            store=store, forge=forge, cluster=cluster,
            workspace=GitWorkspace(forge.clone_url, forge.token),
            slack=make_client(settings.slack_bot_token.reveal(), settings.slack_api_url),
            clock=clock or SystemClock(), kube=kube,
            probes={"redis": store.ping, "github": forge.ping, "kubernetes": cluster.ping},
        )


class Bot:
    """A wired bot: `start` it, `stop` it. Built by `build`; every part is an attribute, for
    the tests and the sandbox to look at."""

    def __init__(self, settings: Settings, pipeline: Pipeline, adapters: Adapters,
                 tuning: Tuning):
        self.settings = settings
        self.pipeline = pipeline
        self.adapters = adapters
        self.tuning = tuning
        self.clock = adapters.clock
        self.metrics = Metrics()  # a registry of its own: two bots in one process never collide
        self.metrics.prime((a.name, e.name) for a in pipeline.apps.values()
                           for e in a.environments)
        self.slack = adapters.slack
        _count_slack(self.slack, self.metrics)
        self.store = cast(Store, CountingProxy(adapters.store, "redis", self.metrics))
        forge = cast(Forge, CountingProxy(adapters.forge, "github", self.metrics))
        cluster = cast(Cluster, CountingProxy(adapters.cluster, "kubernetes", self.metrics))
        workspace = cast(Workspace, CountingProxy(adapters.workspace, "github", self.metrics))
        self.forge, self.cluster = forge, cluster
        self.workers = Workers(tuning.worker_threads, name="worker")
        submit = self.workers.submit
        directory = adapters.directory or SlackDirectory(self.slack)
        # App Home reads the status through its own reader (no engine needed), so nothing
        # here is built before what it needs.
        status = StatusReader(Lookup(pipeline), self.store, forge, cluster, self.clock)
        self.home = HomePublisher(self.slack, self.store,
                                  lambda: read_statuses(status.read, pipeline.app_names),
                                  submit, self.clock)
        self.notifier = SlackNotifier(self.slack, pipeline, self.store, submit, self.home)
        notifier = MetricsNotifier(logs.ContextNotifier(self.notifier), self.metrics)
        ports = engine.Ports(self.store, forge, cluster, directory, notifier, self.clock,
                             workspace)
        self.core = engine.build(pipeline, ports, submit, engine.Options(owner=_owner()))
        self.runner = self.core.runner
        self.watch: KustomizationWatch | None = self._new_watch()
        # Of all replicas on this Redis, the leader alone runs the watch and the poll.
        self.lease = LeaderLease(self.store, self.core.records.options.owner,
                                 ttl_seconds=tuning.lease_seconds, on_gain=self._lead,
                                 on_lose=self._follow)
        self.scheduler = BackgroundScheduler(timezone="UTC")
        # A tick still running when the next is due is skipped on purpose (max_instances=1).
        logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
        self.scheduler.add_job(self._tick, "interval", seconds=settings.poll_seconds,
                               id="gates", max_instances=1, coalesce=True)
        # Due reminders, escalations and expiries: their times are in Redis (the due index),
        # read by the leader alone; the job only kicks the records that are due.
        self.scheduler.add_job(self._due, "interval", seconds=tuning.due_seconds, id="due",
                               max_instances=1, coalesce=True, misfire_grace_time=None)
        self.services = Services(self.core, self.store, pipeline, submit, self.home)
        self._listeners = logs.ContextThreadPoolExecutor(tuning.listener_threads,
                                                         thread_name_prefix="listener")
        self.bolt = build_app(bot_token=settings.slack_bot_token.reveal(),
                              signing_secret=settings.slack_signing_secret.reveal(),
                              client=self.slack, services=self.services,
                              listener_executor=self._listeners)
        secret = settings.github_webhook_secret
        self.deliveries = webhooks.Deliveries(
            self.store, lambda app: pipeline.app(app).repository, self.runner.kick,
            lambda work: submit("webhook", logs.unit_of_work(work), None))
        response_urls = ResponseUrls(settings.response_url_hosts)
        if settings.slack_app_token is not None:  # over HTTP, the WebApp guards each request
            self.bolt.use(response_urls_middleware(response_urls))
        self.web = WebApp(self.bolt, adapters.probes or {"redis": self.store.ping},
                          signing_secret=settings.slack_signing_secret.reveal(),
                          response_urls=response_urls,
                          webhook_secret=secret.reveal() if secret else None,
                          deliveries=self.deliveries, metrics=self.metrics)
        self._server: RunningServer | None = None
        self._socket: Any = None
        self._stopped = False
        self.url: str | None = None

    # -- the leader's duties ---------------------------------------------------------------

    def _new_watch(self) -> KustomizationWatch | None:
        if self.adapters.kube is None:
            return None
        return KustomizationWatch(self.adapters.kube, self._on_status,
                                  timeout_seconds=self.tuning.watch_timeout_seconds)

    def _lead(self) -> None:
        if self.watch is not None and self.watch.started:
            self.watch = self._new_watch()  # a stopped watch thread cannot start again
        if self.watch is not None:
            self.watch.start()
        self.scheduler.resume()

    def _follow(self) -> None:
        self.scheduler.pause()
        if self.watch is not None:
            self.watch.stop()

    @property
    def leading(self) -> bool:
        return self.lease.leading

    def _tick(self) -> None:
        with logs.scope(request=f"tick-{logs.new_request_id()[:8]}"):
            self.runner.tick()
            self.core.queue.tick()

    def _due(self) -> None:
        with logs.scope(request=f"due-{logs.new_request_id()[:8]}"):
            self.runner.due()

    def _on_status(self, status: KustomizationStatus) -> None:
        self.runner.on_status(status)
        self.home.refresh()  # App Home shows Flux as it is, promotions or not (coalesced)

    # -- life --------------------------------------------------------------------------------

    def idle(self) -> bool:
        """No listener running and no work waiting or running on the workers."""
        return self._listeners.idle() and self.workers.idle()

    def card_of(self, promotion_id: int) -> CardRef | None:
        """Where the record's card is in Slack (None until it is posted)."""
        return CardRef.decode(self.store.notice(promotion_id))

    @property
    def slack_request_url(self) -> str | None:
        return f"{self.url}/slack/events" if self.url else None

    def start(self) -> Bot:
        # A crash mid-promotion resumes here: live records, and interrupted branch syncs.
        self.workers.submit("resume", self.runner.resume, None)
        self.workers.submit("resume-queues", self.core.queue.tick, None)
        self.scheduler.start(paused=True)
        self.lease.start()  # the leader resumes the poll and starts the watch
        self._server, self.url = serve_background(self.web, self.settings.host,
                                                  self.settings.port)
        if self.settings.slack_app_token is not None:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            self._socket = SocketModeHandler(self.bolt, self.settings.slack_app_token.reveal())
            self._socket.connect()
        log.info("promotebot serving on %s (%s mode)", self.url, self.settings.slack_mode)
        return self

    def stop(self) -> None:
        """Stop everything this bot started, in order: no new requests, then the leader's
        duties, then the work in hand drained. A step that fails is logged and the others
        still run (a shutdown must not die halfway). A second call does nothing."""
        if self._stopped:
            return
        self._stopped = True
        kube = self.adapters.kube
        steps: list[tuple[str, Callable[[], object]]] = [
            ("socket mode", lambda: self._socket.close() if self._socket is not None else None),
            ("http server", lambda: self._server.close() if self._server is not None else None),
            ("leader lease", self.lease.stop),  # stops the watch and pauses the poll
            ("scheduler", lambda: self.scheduler.shutdown(wait=True)),
            ("listeners", lambda: self._listeners.shutdown(wait=True, cancel_futures=True)),
            ("workers", lambda: self.workers.stop(wait=True)),
            ("kubernetes client", kube.close if kube is not None else _nothing),
        ]
        for name, step in steps:
            try:
                step()
            except Exception:
                log.exception("stopping the %s failed; stopping the rest", name)


def build(settings: Settings, pipeline: Pipeline, adapters: Adapters | None = None, *,
          tuning: Tuning | None = None, clock: Clock | None = None) -> Bot:
    """The bot for these settings and pipeline, over `adapters` (default: the real ones)."""
    tuning = tuning or Tuning()
    return Bot(settings, pipeline,
               adapters or Adapters.from_settings(settings, tuning, clock), tuning)


def _nothing() -> None:
    return None


def _owner() -> str:
    """Names this process in locks and the lease: host, pid and a random suffix."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def _count_slack(client: Any, metrics: Metrics) -> None:
    """Count every Slack Web API call (slack_sdk funnels each method through api_call)."""

    def method(*args: Any, **kwargs: Any) -> str:
        return str(kwargs.get("api_method") or (args[0] if args else "unknown"))

    client.api_call = counted(client.api_call, metrics, "slack", method)


def _github(settings: Settings, *, fast: bool) -> Any:
    auth = settings.github_auth
    if isinstance(auth, GitHubApp):
        return github_client(settings.github_api_url, app_id=auth.app_id,
                             private_key=auth.private_key.reveal(),
                             installation_id=auth.installation_id, fast=fast)
    return github_client(settings.github_api_url, auth.token.reveal(), fast=fast)
