"""The emulated world: one seeded git repository behind an emulated GitHub, an emulated cluster
with Flux reconciling from that repository, and an emulated Slack workspace with its people.
With `prod_cluster`, prod runs in a second emulated cluster of its own (its Flux objects and
its Deployment there, dev and staging in the first), as a platform team keeps prod apart.

Used by the sandbox command and by the end-to-end tests. It starts and stops the emulators and
describes them (the state file); it does not start the bot (the sandbox command does).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sandbox.cluster import Cluster, start_cluster
from sandbox.github.models import GitHubUser
from sandbox.github.server import GitHubEmulator
from sandbox.gitseed import SeededRepo, seed_repository
from sandbox.slack.models import SlackChannel, SlackUser, SlackUserGroup
from sandbox.slack.server import SlackEmulator
from sandbox.slack.workspace import trigger_ttl

OWNER, REPO = "acme", "myapp"
DEPLOYS, INCIDENTS = "C0DEPLOYS", "C0INCIDENT"
STAKEHOLDERS, ONCALL = "S0STAKEHOLDERS", "S0ONCALL"
BOT_SLACK_ID = "U0BOT0001"
# The sandbox's own secrets, public by design.
SIGNING_SECRET = "sandbox-signing-secret"
BOT_TOKEN = "xoxb-sandbox-bot-token"
BOT_GITHUB_TOKEN = "ghp_sandbox_promotebot"
WEBHOOK_SECRET = "sandbox-webhook-secret"


@dataclass(frozen=True)
class Person:
    name: str
    slack_id: str
    github_login: str
    github_token: str
    roles: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "slack_id": self.slack_id, "github_login": self.github_login,
                "github_token": self.github_token, "roles": list(self.roles)}


PEOPLE = (
    Person("dana", "U0DEV", "dana", "ghp_sandbox_dana", ("developer",)),
    Person("riley", "U0REVIEW", "riley", "ghp_sandbox_riley", ("reviewer",)),
    Person("sam", "U0STAKE", "sam", "ghp_sandbox_sam", ("stakeholder",)),
    Person("omar", "U0ONCALL", "omar", "ghp_sandbox_omar", ("oncall",)),
)


def manifest_commands() -> frozenset[str]:
    """The slash commands the Slack app manifest declares (Slack knows no others)."""
    import yaml

    path = Path(__file__).resolve().parents[1] / "slack-app-manifest.yaml"
    if not path.exists():  # an installed package without the repository around it
        return frozenset({"/promote", "/rollback", "/hotfix"})
    manifest = yaml.safe_load(path.read_text())
    return frozenset(c["command"] for c in manifest["features"]["slash_commands"])


def manifest_scopes() -> frozenset[str]:
    """The bot scopes the Slack app manifest asks for (the sandbox's app is installed with
    them)."""
    import yaml

    path = Path(__file__).resolve().parents[1] / "slack-app-manifest.yaml"
    if not path.exists():
        return frozenset({"commands", "chat:write", "usergroups:read", "users:read"})
    manifest = yaml.safe_load(path.read_text())
    return frozenset(manifest["oauth_config"]["scopes"]["bot"])


def _is_prod(obj: dict[str, Any]) -> bool:
    return str((obj.get("metadata") or {}).get("name", "")).endswith("-prod")


def _without_depends_on(obj: dict[str, Any]) -> None:
    (obj.get("spec") or {}).pop("dependsOn", None)


def two_cluster_pipeline(base: str, prod_api_url: str) -> str:
    """The pipeline text `base` with prod in a cluster of its own, named prod, at that URL."""
    import yaml

    data = yaml.safe_load(base)
    data["clusters"] = {"prod": {"apiUrl": prod_api_url}}
    for app in data["apps"].values():
        for env in app["environments"]:
            if env["name"] == "prod":
                env["cluster"] = "prod"
    return str(yaml.safe_dump(data, sort_keys=False))


def person(role_or_name: str) -> Person:
    return next(p for p in PEOPLE if role_or_name == p.name or role_or_name in p.roles)


def github_users() -> list[GitHubUser]:
    """The bot and every person, as the emulated GitHub knows them."""
    return ([GitHubUser("promotebot", BOT_GITHUB_TOKEN, "promotebot", type="Bot")]
            + [GitHubUser(p.github_login, p.github_token, p.name) for p in PEOPLE])


def start_slack() -> SlackEmulator:
    """The emulated workspace, started: its people, the deploys and incidents channels and the
    user groups, with the bot a member."""
    members = (*(p.slack_id for p in PEOPLE), BOT_SLACK_ID)
    slack = SlackEmulator(
        SIGNING_SECRET, BOT_TOKEN,
        [SlackUser(p.slack_id, p.name, p.name.capitalize()) for p in PEOPLE],
        [SlackChannel(DEPLOYS, "myapp-deploys", members),
         SlackChannel(INCIDENTS, "myapp-incidents", members)],
        [SlackUserGroup(STAKEHOLDERS, "myapp-stakeholders", (person("stakeholder").slack_id,)),
         SlackUserGroup(ONCALL, "myapp-oncall", (person("oncall").slack_id,))],
        bot_user_id=BOT_SLACK_ID,
        known_commands=manifest_commands(),
        trigger_seconds=trigger_ttl(),
    )
    slack.webapi.scopes = manifest_scopes()
    return slack.start()


class World:
    """A running emulated world; stop() (or leaving `with`) ends every server and thread."""

    def __init__(self, *, time_scale: float = 10.0, pod_start_delay: float = 5.0,
                 requeue_dependency: float = 30.0, workdir: Path | None = None,
                 prod_cluster: bool = False):
        self._own_dir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="promotebot-world-"))
        self.repo: SeededRepo = seed_repository(self.workdir / f"{REPO}.git")
        self.github = GitHubEmulator(self.repo.path, OWNER, REPO, github_users(),
                                     web_pages=True).start()
        self.prod_cluster: Cluster | None = None

        def cluster(keep: Callable[[dict[str, Any]], bool] | None,
                    customize: Callable[[dict[str, Any]], None] | None = None) -> Cluster:
            return start_cluster(self.repo.path, time_scale=time_scale, keep=keep,
                                 customize=customize, pod_start_delay=pod_start_delay,
                                 requeue_dependency=requeue_dependency)

        try:
            self.cluster: Cluster = cluster((lambda o: not _is_prod(o)) if prod_cluster else None)
            if prod_cluster:
                # dependsOn names objects of the same cluster: staging is not in prod's
                self.prod_cluster = cluster(_is_prod, _without_depends_on)
        except BaseException:
            self.stop_clusters()
            self.github.stop()
            raise
        self.slack = start_slack()

    def stop_clusters(self) -> None:
        for cluster in (getattr(self, "cluster", None), self.prod_cluster):
            if cluster is not None:
                cluster.stop()

    def cluster_of(self, env: str) -> Cluster:
        """The emulated cluster the env runs in."""
        return self.prod_cluster if env == "prod" and self.prod_cluster else self.cluster

    def stop(self) -> None:
        self.slack.stop()
        self.stop_clusters()
        self.github.stop()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> World:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def bot_environment(self) -> dict[str, str]:
        """The environment `promotebot serve` needs to run against this world (its pipeline
        file is the sandbox's, written into the world's directory)."""
        return {**serve_environment(self.slack, self.github, self.cluster.url),
                "PROMOTEBOT_PIPELINE": str(self.pipeline_file())}

    def pipeline_file(self) -> Path:
        """The sandbox's pipeline as a file (prod in its own cluster with `prod_cluster`)."""
        from importlib import resources

        path = self.workdir / "pipeline.yaml"
        if not path.exists():
            text = resources.files("sandbox").joinpath("pipeline.yaml").read_text()
            if self.prod_cluster is not None:
                text = two_cluster_pipeline(text, self.prod_cluster.url)
            path.write_text(text)
        return path

    def state(self, bot_request_url: str | None) -> dict[str, Any]:
        return {
            "slack": {
                "api_url": self.slack.api_url,
                "signing_secret": SIGNING_SECRET,
                "bot_request_url": bot_request_url,
                "channels": {"deploys": DEPLOYS, "incidents": INCIDENTS},
            },
            "github": {"api_url": self.github.url, "repo": f"{OWNER}/{REPO}",
                       "clone_url": self.github.clone_url},
            "kubernetes": {"api_url": self.cluster.url,
                           **({"prod_api_url": self.prod_cluster.url}
                              if self.prod_cluster else {})},
            "users": [p.as_json() for p in PEOPLE],
            # `promotebot serve` against these emulators: its environment, every variable
            # (add PROMOTEBOT_PORT, and REDIS_URL for a Redis of your own)
            "serve": {"environment": {**self.bot_environment,
                                      "GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET},
                      "webhook_url": self.github.hooks.url},
        }

    def write_state(self, path: Path, bot_request_url: str | None) -> None:
        write_atomically(path, json.dumps(self.state(bot_request_url), indent=2) + "\n")


def write_atomically(path: Path, text: str) -> None:
    """`text` at `path`, never seen half-written by a script polling for the file."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def serve_environment(slack: SlackEmulator, github: GitHubEmulator,
                      kube_api_url: str) -> dict[str, str]:
    """The environment `promotebot serve` needs to run against these emulators."""
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        # The emulator serves the response_urls it puts in payloads: the bot may post there.
        "SLACK_RESPONSE_URL_HOSTS": urlsplit(slack.url).netloc,
        "GITHUB_TOKEN": BOT_GITHUB_TOKEN,
        "GITHUB_API_URL": github.url,
        "KUBE_API_URL": kube_api_url,
    }
