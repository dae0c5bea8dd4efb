"""The running bot: every adapter built once from the settings, the engine, the Slack edge, the
shared Flux watch, the scheduler, and the HTTP server in front of them.

This is the composition root (DESIGN.md section 2): nothing else builds a client. `Bot.start`
resumes every live record left by a previous process before it takes new requests. It also
wires observability around the core without changing it: counted adapters and a metrics
notifier (slackbot.metrics), log context for listener, driver and webhook work (slackbot.logs),
and GitHub webhooks that kick the records they concern (slackbot.webhooks).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from apscheduler.schedulers.background import BackgroundScheduler

from handlers.app import Services, build_app, make_client
from handlers.background import Background
from handlers.directory import SlackDirectory
from handlers.home import HomePublisher, HomeViewers, read_statuses
from handlers.notifier import SlackNotifier
from handlers.response_urls import ResponseUrls
from handlers.response_urls import middleware as response_urls_middleware
from handlers.web import RunningServer, WebApp, serve_background
from slackbot import logs, webhooks
from slackbot.adapters.flux import KubeCluster, api_client
from slackbot.adapters.flux_watch import KustomizationWatch
from slackbot.adapters.github import GitHubForge, github_client
from slackbot.adapters.workspace import GitWorkspace
from slackbot.clock import SystemClock
from slackbot.driver import Driver
from slackbot.engine import Engine
from slackbot.incidents import Incidents
from slackbot.lease import LeaderLease
from slackbot.metrics import CountingProxy, Metrics, MetricsNotifier, counted
from slackbot.pipeline import Pipeline
from slackbot.ports import Clock
from slackbot.settings import GitHubApp, Settings
from slackbot.store import RedisStore, open_redis

if TYPE_CHECKING:
    from sandbox.world import World

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tuning:
    """Knobs the sandbox and the tests turn; production keeps the defaults."""

    github_throttle: bool = True  # PyGithub's own pacing of requests (GitHub's guidance)
    watch_timeout_seconds: int = 60
    listener_threads: int = 8
    background_threads: int = 4
    lease_seconds: float = 15.0  # the leader lease's time to live (renewed every third of it)


class Bot:
    def __init__(self, settings: Settings, pipeline: Pipeline, *, clock: Clock | None = None,
                 tuning: Tuning | None = None, redis_prefix: str = "promotebot:"):
        tuning = tuning or Tuning()
        self.settings = settings
        self.pipeline = pipeline
        self.redis = open_redis(settings.redis_url.reveal() if settings.redis_url else None)
        self.store = RedisStore(self.redis, prefix=redis_prefix)
        self.forge = GitHubForge(_github(settings, fast=not tuning.github_throttle))
        self.kube = api_client(settings.kube_api_url)
        self.cluster = KubeCluster(self.kube)
        self.slack = make_client(settings.slack_bot_token.reveal(), settings.slack_api_url)
        self.metrics = Metrics()  # a registry of its own: two bots in one process never collide
        self.metrics.prime((a.name, e.name) for a in pipeline.apps.values()
                           for e in a.environments)
        _count_slack(self.slack, self.metrics)
        store = cast(RedisStore, CountingProxy(self.store, "redis", self.metrics))
        forge = cast(GitHubForge, CountingProxy(self.forge, "github", self.metrics))
        cluster = cast(KubeCluster, CountingProxy(self.cluster, "kubernetes", self.metrics))
        self.background = Background(tuning.background_threads)
        engine_box: list[Engine] = []
        self.home = HomePublisher(
            self.slack,
            HomeViewers(self.redis, key=f"{redis_prefix}home:viewers"),
            lambda: read_statuses(engine_box[0].status, pipeline.app_names),
            defer=self.background,
        )
        self.workspace = GitWorkspace(self.forge.clone_url, self.forge.token)
        notifier = MetricsNotifier(
            logs.ContextNotifier(SlackNotifier(self.slack, pipeline, self.store, self.home)),
            self.metrics)
        workspace = cast(GitWorkspace, CountingProxy(self.workspace, "github", self.metrics))
        self.engine = Engine(
            pipeline, store, forge, cluster, SlackDirectory(self.slack), notifier,
            clock or SystemClock(), workspace=workspace,
        )
        self.incidents = Incidents(self.engine, workspace)
        engine_box.append(self.engine)
        self.driver = _LoggedDriver(self.engine)
        self._watch_timeout = tuning.watch_timeout_seconds
        self.watch = self._new_watch()
        # Of all replicas on this Redis, the leader alone runs the watch and the poll.
        self.lease = LeaderLease(
            self.store, f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}",
            ttl_seconds=tuning.lease_seconds, on_gain=self._lead, on_lose=self._follow)
        self.scheduler = BackgroundScheduler(timezone="UTC")
        # A tick still running when the next is due is skipped on purpose (max_instances=1).
        logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
        self.scheduler.add_job(self._tick, "interval", seconds=settings.poll_seconds,
                               id="gates", max_instances=1, coalesce=True)
        services = Services(self.engine, store, pipeline, self.home, defer=self._defer,
                            incidents=self.incidents)
        self._listeners = logs.ContextThreadPoolExecutor(tuning.listener_threads,
                                                         thread_name_prefix="listener")
        self.bolt = build_app(
            bot_token=settings.slack_bot_token.reveal(),
            signing_secret=settings.slack_signing_secret.reveal(),
            client=self.slack,
            services=services,
            listener_executor=self._listeners,
        )
        secret = settings.github_webhook_secret
        self.deliveries = webhooks.Deliveries(
            store, lambda app: pipeline.app(app).repository, self.driver.kick, self._defer)
        response_urls = ResponseUrls(settings.response_url_hosts)
        if settings.slack_app_token is not None:  # over HTTP, the WebApp guards each request
            self.bolt.use(response_urls_middleware(response_urls))
        self.web = WebApp(self.bolt, {
            "redis": store.ping,
            "github": forge.ping,
            "kubernetes": cluster.ping,
        }, signing_secret=settings.slack_signing_secret.reveal(), response_urls=response_urls,
           webhook_secret=secret.reveal() if secret else None, deliveries=self.deliveries,
           metrics=self.metrics)
        self._server: RunningServer | None = None
        self._socket: Any = None
        self.url: str | None = None

    def _new_watch(self) -> KustomizationWatch:
        return KustomizationWatch(self.kube, self._on_status,
                                  timeout_seconds=self._watch_timeout)

    def _lead(self) -> None:
        if self.watch.started:
            self.watch = self._new_watch()  # a stopped watch thread cannot start again
        self.watch.start()
        self.scheduler.resume()

    def _follow(self) -> None:
        self.scheduler.pause()
        self.watch.stop()

    @property
    def leading(self) -> bool:
        return self.lease.leading

    def _defer(self, work: Callable[[], object]) -> None:
        """Background work keeps the request and promotion ids of the work that asked."""
        self.background(logs.unit_of_work(work))

    def _tick(self) -> None:
        with logs.scope(request=f"tick-{logs.new_request_id()[:8]}"):
            self.driver.tick()

    def _on_status(self, status: Any) -> None:
        self.driver.on_status(status)
        self.home.refresh()  # App Home shows Flux as it is, promotions or not (coalesced)

    @property
    def slack_request_url(self) -> str | None:
        return f"{self.url}/slack/events" if self.url else None

    def start(self) -> Bot:
        # A crash mid-promotion resumes here: live records, and interrupted branch syncs.
        self._defer(self.engine.resume)
        self.scheduler.start(paused=True)
        self.lease.start()  # the leader resumes the poll and starts the watch
        self._server, self.url = serve_background(self.web, self.settings.host, self.settings.port)
        if self.settings.slack_app_token is not None:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            self._socket = SocketModeHandler(self.bolt, self.settings.slack_app_token.reveal())
            self._socket.connect()
        log.info("promotebot serving on %s (%s mode)", self.url, self.settings.slack_mode)
        return self

    def stop(self) -> None:
        """Stop everything this bot started, in order; a step that fails is logged and the
        others still run (a shutdown must not die halfway). A second call does nothing."""
        if getattr(self, "_stopped", False):
            return
        self._stopped = True
        steps: list[tuple[str, Callable[[], object]]] = [
            ("socket mode", lambda: self._socket.close() if self._socket is not None else None),
            ("http server", lambda: self._server.close() if self._server is not None else None),
            ("leader lease", self.lease.stop),  # stops the watch and pauses the poll
            ("scheduler", lambda: self.scheduler.shutdown(wait=False)),
            ("driver", self.driver.stop),
            ("background work", self.background.close),
            ("listeners", lambda: self._listeners.shutdown(wait=False, cancel_futures=True)),
            ("kubernetes client", self.kube.close),
        ]
        for name, step in steps:
            try:
                step()
            except Exception:
                log.exception("stopping the %s failed; stopping the rest", name)


class _LoggedDriver(Driver):
    """The Driver, with each advance logged under its promotion id and the id of the request
    (a webhook delivery, a Slack action) that kicked it."""

    def __init__(self, engine: Engine, workers: int = 4):
        super().__init__(engine, executor=logs.ContextThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="driver"))

    def _advance(self, promotion_id: int) -> None:
        with logs.scope(promotion=promotion_id):
            super()._advance(promotion_id)


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


SANDBOX_PIPELINE = "pipeline.yaml"  # in the sandbox package: prod's window always open
SANDBOX_WEBHOOK_SECRET = "sandbox-webhook-secret"  # the sandbox's own


def start_bot_for(world: World, *, poll_seconds: float = 2.0, redis_url: str | None = None) -> Bot:
    """The real bot against the sandbox's emulators: the embedded Redis unless `redis_url`,
    fast GitHub pacing, and the sandbox's pipeline."""
    from importlib import resources

    from slackbot.config import parse_pipeline
    from slackbot.settings import load_settings

    env = {**world.bot_environment, "PROMOTEBOT_HOST": "127.0.0.1", "PROMOTEBOT_PORT": "0",
           "PROMOTEBOT_POLL_SECONDS": str(poll_seconds),
           "GITHUB_WEBHOOK_SECRET": SANDBOX_WEBHOOK_SECRET}
    if redis_url:
        env["REDIS_URL"] = redis_url
    settings = load_settings(env)
    text = resources.files("sandbox").joinpath(SANDBOX_PIPELINE).read_text()
    tuning = Tuning(github_throttle=False, watch_timeout_seconds=30)
    bot = Bot(settings, parse_pipeline(text, "sandbox/pipeline.yaml"), tuning=tuning).start()
    # GitHub tells the bot at once about reviews, checks and pushes, as a real install does.
    world.github.hooks.configure(f"{bot.url}/github/webhook", SANDBOX_WEBHOOK_SECRET)
    return bot
