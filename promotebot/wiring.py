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
import math
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

from apscheduler.schedulers.background import BackgroundScheduler
from kubernetes import client as k8s
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.app import build_app, cards_client, make_client
from handlers.background import pooled
from handlers.card_links import SlackCardLinks
from handlers.devdeploys import DevDeployReporter
from handlers.directory import SlackDirectory
from handlers.home import HomePublisher, read_statuses
from handlers.notifier import CardRef, SlackNotifier
from handlers.pacing import Pacing
from handlers.response_urls import ResponseUrls
from handlers.response_urls import middleware as response_urls_middleware
from handlers.services import Services
from handlers.web import READINESS_DEADLINE, RunningServer, WebApp, serve_background
from slackbot import engine, logs, webhooks
from slackbot.adapters.flux import KubeCluster, api_client
from slackbot.adapters.flux_watch import KustomizationWatch
from slackbot.adapters.github import GitHubForge, github_client
from slackbot.adapters.github_access import access_problems
from slackbot.adapters.redis_connect import Persistence, SentinelTarget, connect, persistence
from slackbot.adapters.redis_store import RedisStore
from slackbot.adapters.workspace import GitWorkspace
from slackbot.clock import SystemClock
from slackbot.clusters import Clusters
from slackbot.delivery import Delivery
from slackbot.devdeploys import DevDeploys
from slackbot.downtime import Downtime, is_outage
from slackbot.engine.recovery import Recovery
from slackbot.errors import SettingsError
from slackbot.keeper import LockKeeper
from slackbot.lease import LeaderLease
from slackbot.metrics import CountingProxy, Metrics, MetricsNotifier, counted
from slackbot.outages import OutageBoard
from slackbot.pipeline import Pipeline
from slackbot.ports import Clock, Cluster, Directory, Forge, KustomizationStatus, Store, Workspace
from slackbot.precedence import Precedence
from slackbot.settings import GitHubApp, Settings
from slackbot.timers import Later
from slackbot.webhooks import Change
from slackbot.workers import Workers

log = logging.getLogger(__name__)

MIN_LOCK_SECONDS = 5.0  # an env lock's shortest time to live (tests shorten the lease)


@dataclass(frozen=True)
class Tuning:
    """Knobs the sandbox and the tests turn; production keeps the defaults."""

    github_throttle: bool = True  # PyGithub's own pacing of requests (GitHub's guidance)
    watch_timeout_seconds: int = 60
    listener_threads: int = 8  # the listeners' Slack calls after an ack (dialogs, answers)
    worker_threads: int = 16  # the bot's workers: every outside call after an ack
    card_threads: int = 4  # the card renders' own workers: Slack's pace never holds the engine
    lease_seconds: float = 15.0  # the leader lease's time to live (renewed every third of it)
    due_seconds: float = 5.0  # how often the leader looks for due reminders and expiries
    # /readyz's bound on its probes (production: 1.5 s, within the chart's probe timeout);
    # tests that ask readiness on a loaded machine give a bound no load exhausts
    readiness_deadline: float = READINESS_DEADLINE
    redis_prefix: str = "promotebot:"

    @property
    def connections(self) -> int:
        """Kept-alive connections per HTTP client (GitHub, each cluster): one per thread that
        calls out (the workers, the card workers, the watch, the lease, the readiness probes);
        a smaller pool discards and reopens connections whenever the workers are all busy."""
        return self.worker_threads + self.card_threads + 4


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
    # the pipeline's named clusters (envs elsewhere): one watch each, beside the default's
    kubes: dict[str, k8s.ApiClient] = field(default_factory=dict)
    probes: dict[str, Callable[[], bool]] = field(default_factory=dict)
    # the outside services failing now, fed by the adapters' retries, shown on the cards
    outages: OutageBoard = field(default_factory=OutageBoard)

    @classmethod
    def from_settings(cls, settings: Settings, tuning: Tuning, clock: Clock | None = None,
                      pipeline: Pipeline | None = None) -> Adapters:
        clock = clock or SystemClock()
        outages = OutageBoard(clock)
        store = RedisStore(redis_client(settings), prefix=tuning.redis_prefix)
        forge = GitHubForge(_github(settings, fast=not tuning.github_throttle,
                                    connections=tuning.connections), clock=clock,
                            trust_seconds=GitHubPolling.of(settings).trust_seconds,
                            serial_writes=tuning.github_throttle)
        probes: dict[str, Callable[[], bool]] = {"redis": store.ping, "github": forge.ping}
        clusters: dict[str | None, Cluster] = {}
        kube = None
        if pipeline is None or pipeline.uses_default_cluster:
            kube = api_client(settings.kube_api_url, connections=tuning.connections)
            default = KubeCluster(kube, outages=outages)
            clusters[None] = default
            probes["kubernetes"] = default.ping
        kubes: dict[str, k8s.ApiClient] = {}
        for name, spec in (pipeline.clusters if pipeline is not None else {}).items():
            kubes[name] = api_client(spec.api_url, token_file=spec.token_file,
                                     ca_file=spec.ca_file, context=spec.context,
                                     connections=tuning.connections)
            named = KubeCluster(kubes[name], outages=outages, name=name)
            clusters[name] = named
            probes[f"kubernetes:{name}"] = named.ping
        cluster = clusters[None] if list(clusters) == [None] else Clusters(clusters)
        return cls(
            store=store, forge=forge, cluster=cluster,
            workspace=GitWorkspace(forge.clone_url, forge.token, renew=forge.renew_token),
            slack=make_client(settings.slack_bot_token.reveal(), settings.slack_api_url),
            clock=clock, kube=kube, kubes=kubes, probes=probes, outages=outages,
        )


@dataclass(frozen=True)
class GitHubPolling:
    """How often a promotion waiting at its gates asks GitHub, and what that costs: with
    webhooks GitHub says what changed and the poll is only a safety net; without, the poll is
    how the bot learns anything (PROMOTEBOT_POLL_SECONDS)."""

    webhooks: bool
    seconds: float
    reads: int = 4  # the pull request, its statuses, its check runs, its reviews

    @classmethod
    def of(cls, settings: Settings) -> GitHubPolling:
        if settings.github_webhook_secret is not None:
            return cls(True, settings.safety_poll_seconds)
        return cls(False, settings.poll_seconds)

    @property
    def trust_seconds(self) -> float:
        """How long an answer is used without asking again: the safety poll, or a little
        under the poll interval (the scheduler's tick), so that every tick asks."""
        return self.seconds if self.webhooks else self.seconds * 0.9

    @property
    def requests_per_hour(self) -> int:
        """Requests an hour for each waiting promotion (conditional: those answered 304,
        everything that did not change, GitHub does not count)."""
        return math.ceil(3600 / self.seconds) * self.reads


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
        # Acks first: the workers hold back new tasks while Slack requests wait for theirs.
        self.precedence = Precedence()
        self.workers = Workers(tuning.worker_threads, name="worker", precedence=self.precedence)
        submit = self.workers.submit
        owner = _owner()
        # Cards render on workers of their own, and wait for Slack's pace off them (`later`).
        self.card_workers = Workers(tuning.card_threads, name="card",
                                    precedence=self.precedence)
        self.later = Later(self.card_workers.submit, name="card-later")
        self.outages = adapters.outages
        directory = adapters.directory or SlackDirectory(self.slack)
        # The DORA figures: /promote stats, App Home and /metrics read them, kept a minute.
        self.delivery = Delivery(self.store, self.clock,
                                 [(a.name, e.name) for a in pipeline.apps.values()
                                  for e in a.environments],
                                 failure_window=timedelta(hours=settings.failure_window_hours))
        self.metrics.watch_delivery(self.delivery.figures)
        # App Home and /promote status share the core's one view per app (built below: the
        # notifier needs App Home before the core exists).
        self.home = HomePublisher(self.slack, self.store,
                                  lambda: read_statuses(self.core.status.read, pipeline.app_names),
                                  submit, self.clock, changed=lambda: self.core.status.changed(),
                                  delivery=self.delivery.figures)
        cards = cards_client(self.slack)
        _count_slack(cards, self.metrics)
        self.notifier = SlackNotifier(cards, pipeline, self.store, self.card_workers.submit,
                                      self.home, later=self.later, pacing=Pacing(self.store),
                                      owner=owner, outages=self.outages)
        self.outages.on_change = self.notifier.refresh_live
        notifier = MetricsNotifier(logs.ContextNotifier(self.notifier), self.metrics)
        ports = engine.Ports(self.store, forge, cluster, directory, notifier, self.clock,
                             workspace, links=SlackCardLinks(cards, self.store))
        # An env lock lives as long as its holder: the lease's time to live, renewed while held.
        self.keeper = LockKeeper(self.store, max(tuning.lease_seconds, MIN_LOCK_SECONDS))
        options = engine.Options(owner=owner, keeper=self.keeper,
                                 lock_ttl=timedelta(milliseconds=self.keeper.ttl_ms))
        self.core = engine.build(pipeline, ports, submit, options)
        self.runner = self.core.runner
        self.recovery = Recovery(self.store, self.runner, self.core.aftercare, submit, owner)
        # Pushes to each app's first env that Flux applies, reported in its deploys channel.
        self.dev_deploys = DevDeploys(pipeline, self.store, workspace, self.clock, submit,
                                      DevDeployReporter(self.slack, self.store))
        # One Kustomization watch per cluster, whatever the number of records.
        self.watches: dict[str | None, KustomizationWatch] = {
            name: self._new_watch(name) for name in self._watched_clusters()}
        # Of all replicas on this Redis, the leader alone runs the watch and the poll.
        self.lease = LeaderLease(self.store, self.core.records.options.owner,
                                 ttl_seconds=tuning.lease_seconds, on_gain=self._lead,
                                 on_lose=self._follow, on_renew=self.recovery.merging,
                                 on_store_back=self._store_back)
        self.scheduler = BackgroundScheduler(timezone="UTC")
        # A tick still running when the next is due is skipped on purpose (max_instances=1).
        logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
        # "Running job ..." twice a tick is noise; a job's own failure is logged by the job
        logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
        self._poll_down = Downtime("the poll (gates, cards, queues)", log)
        self._due_down = Downtime("the due look (reminders, expiries)", log)
        self.scheduler.add_job(self._tick, "interval", seconds=settings.poll_seconds,
                               id="gates", max_instances=1, coalesce=True)
        # Due reminders, escalations and expiries: their times are in Redis (the due index),
        # read by the leader alone; the job only kicks the records that are due.
        self.scheduler.add_job(self._due, "interval", seconds=tuning.due_seconds, id="due",
                               max_instances=1, coalesce=True, misfire_grace_time=None)
        self._listeners = logs.ContextThreadPoolExecutor(tuning.listener_threads,
                                                         thread_name_prefix="listener")
        self.services = Services(self.core, self.store, pipeline, submit, self.home,
                                 delivery=self.delivery, soon=pooled(self._listeners))
        self.bolt = build_app(bot_token=settings.slack_bot_token.reveal(),
                              signing_secret=settings.slack_signing_secret.reveal(),
                              client=self.slack, services=self.services)
        secret = settings.github_webhook_secret
        self.deliveries = webhooks.Deliveries(
            self.store, lambda app: pipeline.app(app).repository, self.runner.kick,
            lambda work: submit("webhook", logs.unit_of_work(work), None),
            changed=self._github_changed)
        self.github_polling = GitHubPolling.of(settings)
        self._watch_github(adapters.forge)
        response_urls = ResponseUrls(settings.response_url_hosts)
        if settings.slack_app_token is not None:  # over HTTP, the WebApp guards each request
            self.bolt.use(response_urls_middleware(response_urls))
        self.web = WebApp(self.bolt, adapters.probes or {"redis": self.store.ping},
                          signing_secret=settings.slack_signing_secret.reveal(),
                          response_urls=response_urls,
                          webhook_secret=secret.reveal() if secret else None,
                          deliveries=self.deliveries, metrics=self.metrics,
                          readiness_deadline=tuning.readiness_deadline,
                          precedence=self.precedence)
        self._server: RunningServer | None = None
        self._socket: Any = None
        self._stopped = False
        self.url: str | None = None

    # -- the leader's duties ---------------------------------------------------------------

    def _watched_clusters(self) -> list[str | None]:
        names: list[str | None] = [None] if self.adapters.kube is not None else []
        return names + list(self.adapters.kubes)

    def _new_watch(self, name: str | None) -> KustomizationWatch:
        api = self.adapters.kube if name is None else self.adapters.kubes[name]
        assert api is not None
        return KustomizationWatch(api, self._on_status, cluster=name, outages=self.outages,
                                  timeout_seconds=self.tuning.watch_timeout_seconds)

    @property
    def watch(self) -> KustomizationWatch | None:
        """The watch of the bot's own cluster (else the first named one)."""
        return self.watches.get(None) or next(iter(self.watches.values()), None)

    def _lead(self) -> None:
        for name, watch in list(self.watches.items()):
            if watch.started:
                watch = self.watches[name] = self._new_watch(name)  # a thread starts once
            watch.start()
        self.scheduler.resume()
        # a leader that died left its records: take every live one up now, not at the tick
        self.workers.submit("resume", self.runner.tick, "resume")

    def _store_back(self) -> None:
        """Redis answers again: the leader takes up what the outage interrupted."""
        if self.leading:
            log.info("Redis answers again: taking up interrupted syncs, cards and records")
            self.recovery.aftercare()
            self.notifier.resume()
            self.runner.tick()

    def _follow(self) -> None:
        self.scheduler.pause()
        for watch in self.watches.values():
            watch.stop()

    @property
    def leading(self) -> bool:
        return self.lease.leading

    def _tick(self) -> None:
        with logs.scope(request=f"tick-{logs.new_request_id()[:8]}"):
            # the card resumes: what an outage (Slack's, Redis's) left behind
            self._polled(self._poll_down, self.runner.tick, self.notifier.resume,
                         self.core.queue.tick)

    def _due(self) -> None:
        with logs.scope(request=f"due-{logs.new_request_id()[:8]}"):
            self._polled(self._due_down, self.runner.due)

    def _polled(self, downtime: Downtime, *steps: Callable[[], object]) -> None:
        """The steps of one poll, each tried: a service away is logged once an outage (not a
        traceback a tick), and the next tick tries again; any other error is raised."""
        away: Exception | None = None
        for step in steps:
            try:
                step()
            except Exception as exc:
                if not is_outage(exc):
                    raise
                away = away or exc
        if away is not None:
            downtime.failed(away)
        else:
            downtime.answered()

    def _github_changed(self, change: Change) -> None:
        """A delivery says what changed on GitHub: what the bot knew of it is stale."""
        self.forge.refresh(change.repository, change)
        self.home.refresh()

    def _watch_github(self, forge: Forge) -> None:
        if not isinstance(forge, GitHubForge):
            return

        def standing() -> tuple[int | None, int | None, Any]:
            rate = forge.rate()
            return rate.remaining, rate.limit, rate.reset

        self.metrics.watch_github(standing)
        forge.api.observe = lambda outcome: self.metrics.github_requests.labels(outcome).inc()

    def check_github(self) -> None:
        """SettingsError naming every permission the GitHub credentials lack."""
        problems = github_problems(self.pipeline, self.adapters.forge)
        if problems:
            raise SettingsError(problems)

    def _on_status(self, status: KustomizationStatus) -> None:
        self.runner.on_status(status)
        self.dev_deploys.on_status(status)
        self.home.refresh()  # App Home shows Flux as it is, promotions or not (coalesced)

    # -- life --------------------------------------------------------------------------------

    def idle(self) -> bool:
        """No listener running and no work waiting or running on the workers (nor a card
        waiting for its turn)."""
        return (self._listeners.idle() and self.workers.idle() and self.card_workers.idle()
                and self.later.pending() == 0)

    def card_of(self, promotion_id: int) -> CardRef | None:
        """Where the record's card is in Slack (None until it is posted)."""
        return CardRef.decode(self.store.notice(promotion_id))

    @property
    def slack_request_url(self) -> str | None:
        return f"{self.url}/slack/events" if self.url else None

    def start(self) -> Bot:
        """Start serving (SettingsError, before anything starts, when the GitHub credentials
        lack a permission the bot needs)."""
        self.check_github()
        polling = self.github_polling
        log.info("github: %s; a waiting promotion asks GitHub every %ss (up to %s requests an "
                 "hour, answered 304 and not counted by GitHub when nothing changed)",
                 "webhooks configured" if polling.webhooks else "no webhooks",
                 f"{polling.seconds:g}", polling.requests_per_hour)
        # A crash mid-promotion resumes here: live records, and interrupted branch syncs.
        self.workers.submit("resume", self.runner.resume, None)
        self.workers.submit("resume-cards", self.notifier.resume, None)
        self.workers.submit("resume-queues", self.core.queue.tick, None)
        self.scheduler.start(paused=True)
        self.keeper.start()
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
        kubes = [k for k in (self.adapters.kube, *self.adapters.kubes.values()) if k is not None]
        steps: list[tuple[str, Callable[[], object]]] = [
            ("socket mode", lambda: self._socket.close() if self._socket is not None else None),
            ("http server", lambda: self._server.close() if self._server is not None else None),
            ("readiness probes", self.web.close),
            ("leader lease", self.lease.stop),  # stops the watch and pauses the poll
            ("scheduler", lambda: self.scheduler.shutdown(wait=True)
             if self.scheduler.running else None),
            ("listeners", lambda: self._listeners.shutdown(wait=True, cancel_futures=True)),
            ("workers", lambda: self.workers.stop(wait=True)),
            ("lock keeper", self.keeper.stop),
            ("card timers", self.later.stop),
            ("card workers", lambda: self.card_workers.stop(wait=True)),
            ("kubernetes clients", lambda: _close(kubes)),
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
               adapters or Adapters.from_settings(settings, tuning, clock, pipeline), tuning)


def github_problems(pipeline: Pipeline, forge: Forge) -> list[str]:
    """Every permission the GitHub credentials lack for this pipeline, one line each."""
    if not isinstance(forge, GitHubForge):
        return []
    repositories = sorted({app.repository for app in pipeline.apps.values()})
    write_back = any(app.github_write_back for app in pipeline.apps.values())
    return access_problems(forge, repositories, write_back)


def _close(clients: list[k8s.ApiClient]) -> None:
    for client in clients:
        client.close()  # type: ignore[no-untyped-call]  # kubernetes is unannotated


def redis_client(settings: Settings) -> Any:
    """The Redis the settings name: through Sentinel, a URL, or the embedded one."""
    sentinel = None
    if settings.redis_sentinels:
        sentinel = SentinelTarget(
            settings.redis_sentinels, settings.redis_sentinel_service,
            settings.redis_password.reveal() if settings.redis_password else None,
            settings.redis_sentinel_password.reveal() if settings.redis_sentinel_password
            else None)
    return connect(settings.redis_url.reveal() if settings.redis_url else None, sentinel)


PERSISTENCE_NONE = (
    "Redis keeps nothing on disk (appendonly no, no save points): a restart of Redis would "
    "lose every live promotion, lock and audit event, and start the promotion ids over. Turn "
    "on AOF (appendonly yes), or set PROMOTEBOT_REDIS_PERSISTENCE=optional to run anyway "
    "(docs/deploy.md, \"Redis\").")
PERSISTENCE_WARNINGS = {
    Persistence.SNAPSHOTS: "Redis persists by RDB snapshots only: a crash loses what changed "
                           "since the last one; AOF (appendonly yes) is recommended.",
    Persistence.UNKNOWN: "Redis refused CONFIG (as managed Redis services do), so its "
                         "persistence cannot be checked: make sure it keeps its data (AOF).",
    Persistence.NONE: PERSISTENCE_NONE,
}


def check_persistence(settings: Settings) -> tuple[bool, str | None]:
    """Whether `serve` may start on this Redis, and what to say about it. No Redis at all
    (the embedded one) is the sandbox's: nothing to check. A Redis that does not answer now
    is reported by /readyz; start-up goes on."""
    if settings.redis_url is None and not settings.redis_sentinels:
        return True, None
    try:
        found = persistence(redis_client(settings))
    except Exception as exc:  # unreachable now: /readyz says so until it answers
        return True, f"could not check Redis's persistence ({type(exc).__name__}); go on"
    if found is Persistence.AOF:
        return True, None
    refused = found is Persistence.NONE and settings.redis_persistence == "required"
    return not refused, PERSISTENCE_WARNINGS[found]


def _owner() -> str:
    """Names this process in locks and the lease: host, pid and a random suffix."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def _count_slack(client: Any, metrics: Metrics) -> None:
    """Count every Slack Web API call (slack_sdk funnels each method through api_call)."""

    def method(*args: Any, **kwargs: Any) -> str:
        return str(kwargs.get("api_method") or (args[0] if args else "unknown"))

    client.api_call = counted(_scopes_named(client.api_call, method), metrics, "slack", method)


_SCOPES_SAID: set[str] = set()


def _scopes_named(fn: Callable[..., Any], method: Callable[..., str]) -> Callable[..., Any]:
    """A call Slack refuses for a missing scope names the scope and what to do, once a scope
    (the error itself goes on to the caller, as before)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SlackApiError as exc:
            needed = str(exc.response.get("needed") or "")
            if exc.response.get("error") == "missing_scope" and needed not in _SCOPES_SAID:
                _SCOPES_SAID.add(needed)
                log.error("SLACK_BOT_TOKEN: the Slack app lacks the bot scope %s (%s needs "
                          "it): add it from slack-app-manifest.yaml and reinstall the app to "
                          "the workspace", needed, method(*args, **kwargs))
            raise

    return call


def _github(settings: Settings, *, fast: bool, connections: int) -> Any:
    auth = settings.github_auth
    if isinstance(auth, GitHubApp):
        return github_client(settings.github_api_url, app_id=auth.app_id,
                             private_key=auth.private_key.reveal(),
                             installation_id=auth.installation_id, fast=fast,
                             connections=connections)
    return github_client(settings.github_api_url, auth.token.reveal(), fast=fast,
                         connections=connections)
