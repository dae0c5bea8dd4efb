"""The running bot: every adapter built once from the settings, the engine, the Slack edge, the
shared Flux watch, the scheduler, and the HTTP server in front of them.

This is the composition root (DESIGN.md section 2): nothing else builds a client. `Bot.start`
resumes every live record left by a previous process before it takes new requests.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.background import BackgroundScheduler

from handlers.app import Services, build_app, make_client
from handlers.background import Background
from handlers.directory import SlackDirectory
from handlers.home import HomePublisher, HomeViewers, read_statuses
from handlers.notifier import SlackNotifier
from handlers.web import RunningServer, WebApp, serve_background
from slackbot.adapters.flux import KubeCluster, api_client
from slackbot.adapters.flux_watch import KustomizationWatch
from slackbot.adapters.github import GitHubForge, github_client
from slackbot.adapters.workspace import GitWorkspace
from slackbot.clock import SystemClock
from slackbot.driver import Driver
from slackbot.engine import Engine
from slackbot.incidents import Incidents
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
        self.background = Background(tuning.background_threads)
        engine_box: list[Engine] = []
        self.home = HomePublisher(
            self.slack,
            HomeViewers(self.redis, key=f"{redis_prefix}home:viewers"),
            lambda: read_statuses(engine_box[0].status, pipeline.app_names),
            defer=self.background,
        )
        self.workspace = GitWorkspace(self.forge.clone_url, self.forge.token)
        self.engine = Engine(
            pipeline, self.store, self.forge, self.cluster, SlackDirectory(self.slack),
            SlackNotifier(self.slack, pipeline, self.store, self.home), clock or SystemClock(),
            workspace=self.workspace,
        )
        self.incidents = Incidents(self.engine, self.workspace)
        engine_box.append(self.engine)
        self.driver = Driver(self.engine)
        self.watch = KustomizationWatch(self.kube, self._on_status,
                                        timeout_seconds=tuning.watch_timeout_seconds)
        self.scheduler = BackgroundScheduler(timezone="UTC")
        self.scheduler.add_job(self.driver.tick, "interval", seconds=settings.poll_seconds,
                               id="gates", max_instances=1, coalesce=True)
        services = Services(self.engine, self.store, pipeline, self.home, defer=self.background,
                            incidents=self.incidents)
        self.bolt = build_app(
            bot_token=settings.slack_bot_token.reveal(),
            signing_secret=settings.slack_signing_secret.reveal(),
            client=self.slack,
            services=services,
        )
        self.web = WebApp(self.bolt, {
            "redis": self.store.ping,
            "github": self.forge.ping,
            "kubernetes": self.cluster.ping,
        })
        self._server: RunningServer | None = None
        self._socket: Any = None
        self.url: str | None = None

    def _on_status(self, status: Any) -> None:
        self.driver.on_status(status)
        self.home.refresh()  # App Home shows Flux as it is, promotions or not (coalesced)

    @property
    def slack_request_url(self) -> str | None:
        return f"{self.url}/slack/events" if self.url else None

    def start(self) -> Bot:
        for record in self.store.live_all():  # a crash mid-promotion resumes here
            self.driver.kick(record.id)
        self.watch.start()
        self.scheduler.start()
        self._server, self.url = serve_background(self.web, self.settings.host, self.settings.port)
        if self.settings.slack_app_token is not None:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            self._socket = SocketModeHandler(self.bolt, self.settings.slack_app_token.reveal())
            self._socket.connect()
        log.info("promotebot serving on %s (%s mode)", self.url, self.settings.slack_mode)
        return self

    def stop(self) -> None:
        if self._socket is not None:
            self._socket.close()
        if self._server is not None:
            self._server.close()
        self.scheduler.shutdown(wait=False)
        self.watch.stop()
        self.driver.stop()
        self.background.close()
        self.kube.close()


def _github(settings: Settings, *, fast: bool) -> Any:
    auth = settings.github_auth
    if isinstance(auth, GitHubApp):
        return github_client(settings.github_api_url, app_id=auth.app_id,
                             private_key=auth.private_key.reveal(),
                             installation_id=auth.installation_id, fast=fast)
    return github_client(settings.github_api_url, auth.token.reveal(), fast=fast)


SANDBOX_PIPELINE = "pipeline.yaml"  # in the sandbox package: prod's window always open


def start_bot_for(world: World, *, poll_seconds: float = 2.0, redis_url: str | None = None) -> Bot:
    """The real bot against the sandbox's emulators: the embedded Redis unless `redis_url`,
    fast GitHub pacing, and the sandbox's pipeline."""
    from importlib import resources

    from slackbot.config import parse_pipeline
    from slackbot.settings import load_settings

    env = {**world.bot_environment, "PROMOTEBOT_HOST": "127.0.0.1", "PROMOTEBOT_PORT": "0",
           "PROMOTEBOT_POLL_SECONDS": str(poll_seconds)}
    if redis_url:
        env["REDIS_URL"] = redis_url
    settings = load_settings(env)
    text = resources.files("sandbox").joinpath(SANDBOX_PIPELINE).read_text()
    tuning = Tuning(github_throttle=False, watch_timeout_seconds=30)
    return Bot(settings, parse_pipeline(text, "sandbox/pipeline.yaml"), tuning=tuning).start()
