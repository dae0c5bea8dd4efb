"""A fleet of N apps in one emulated world, for the scale benchmark: one repository with
each app's own branches (`<app>-dev`, `<app>-staging`), the Flux objects of every app and
env, a pipeline file naming them, and a Slack workspace with the deploys channels.

Every app's dev branch starts one commit ahead of its staging branch, so once Flux has
applied dev, `/promote staging <app>` has something to promote and no gate to wait for: the
promotion then only waits on the outside services. Seeded with one `git fast-import`, so 200
apps cost one git process, not hundreds. It starts emulators; it never starts the bot.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from sandbox.cluster import Cluster, start_cluster
from sandbox.github.models import GitHubUser
from sandbox.github.server import GitHubEmulator
from sandbox.gitseed import SEED_AUTHOR, git_env
from sandbox.slack.models import SlackChannel, SlackUser, SlackUserGroup
from sandbox.slack.server import SlackEmulator
from sandbox.world import (
    BOT_GITHUB_TOKEN,
    BOT_SLACK_ID,
    BOT_TOKEN,
    PEOPLE,
    SIGNING_SECRET,
    person,
    serve_environment,
)

OWNER, REPO = "acme", "fleet"
REPO_URL = f"https://github.com/{OWNER}/{REPO}"
ENVS = ("dev", "staging")
STAKEHOLDERS, ONCALL = "S0FLEETSTAKE", "S0FLEETONCALL"
DEVELOPER = person("developer").slack_id  # who promotes: the only one the benchmark needs


def app_name(index: int) -> str:
    return f"app{index:03d}"


def _files(app: str, version: str) -> dict[str, str]:
    container = {"name": app, "image": f"ghcr.io/acme/{app}:{version}"}
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": app, "labels": {"app": app}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": app}},
                 "template": {"metadata": {"labels": {"app": app}},
                              "spec": {"containers": [container]}}},
    }
    files = {
        f"apps/{app}/base/deployment.yaml": yaml.safe_dump(deployment, sort_keys=False),
        f"apps/{app}/base/kustomization.yaml": "resources:\n  - deployment.yaml\n",
    }
    for env in ENVS:
        files[f"apps/{app}/overlays/{env}/kustomization.yaml"] = (
            f"namespace: {env}\nresources:\n  - ../../base\n")
    return files


def _fast_import(apps: list[str]) -> str:
    """The fast-import stream: per app a first commit on both branches, then dev one ahead."""
    name, email = SEED_AUTHOR
    out: list[str] = []
    mark = 0

    def commit(ref: str, message: str, files: dict[str, str], parent: int | None) -> int:
        nonlocal mark
        mark += 1
        data = message.encode()
        out.append(f"commit {ref}\nmark :{mark}\ncommitter {name} <{email}> 1764072000 +0000\n"
                   f"data {len(data)}\n{message}\n")
        if parent is not None:
            out.append(f"from :{parent}\n")
        for path, content in files.items():
            out.append(f"M 100644 inline {path}\ndata {len(content.encode())}\n{content}\n")
        return mark

    for app in apps:
        first = commit(f"refs/heads/{app}-staging", f"{app}: first version", _files(app, "1.0.0"),
                       None)
        out.append(f"reset refs/heads/{app}-dev\nfrom :{first}\n\n")
        commit(f"refs/heads/{app}-dev", f"{app}: version 1.1.0", _files(app, "1.1.0"), first)
    return "".join(out)


def seed_fleet(dest: Path, apps: list[str]) -> None:
    subprocess.run(["git", "init", "--bare", "--quiet", str(dest)], env=git_env(), check=True)
    subprocess.run(["git", "--git-dir", str(dest), "fast-import", "--quiet"],
                   input=_fast_import(apps).encode(), env=git_env(), check=True)


def flux_objects(apps: list[str], interval: str) -> list[dict[str, object]]:
    objects: list[dict[str, object]] = []
    for app in apps:
        for env in ENVS:
            name = f"{app}-{env}"
            objects.append({
                "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
                "metadata": {"name": name, "namespace": "flux-system"},
                "spec": {"interval": interval, "url": REPO_URL, "ref": {"branch": name}}})
            objects.append({
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                "metadata": {"name": name, "namespace": "flux-system"},
                "spec": {"interval": interval, "timeout": "3m", "prune": True, "wait": True,
                         "path": f"./apps/{app}/overlays/{env}",
                         "sourceRef": {"kind": "GitRepository", "name": name}}})
    return objects


def pipeline_yaml(apps: list[str], channels: list[str]) -> str:
    """The pipeline file of the fleet: app i posts in channels[i % len(channels)]."""
    spec: dict[str, object] = {}
    for index, app in enumerate(apps):
        envs = []
        for env in ENVS:
            ref = {"name": f"{app}-{env}", "namespace": "flux-system"}
            envs.append({"name": env, "branch": f"{app}-{env}", "namespace": env,
                         "kustomization": ref, "gitRepository": ref, "interval": "10m",
                         "timeout": "3m",
                         "gates": {"requiredChecks": [], "requiredReviews": 0}})
        spec[app] = {"repository": f"{OWNER}/{REPO}",
                     "channels": {"deploys": channels[index % len(channels)],
                                  "incidents": "C0FLEETINC"},
                     "roles": {"developer": {"users": [DEVELOPER]},
                               "stakeholder": {"group": STAKEHOLDERS},
                               "oncall": {"group": ONCALL}},
                     "deployments": [app], "environments": envs}
    return yaml.safe_dump({"apps": spec}, sort_keys=False)


@dataclass
class Fleet:
    apps: list[str]
    channels: list[str]
    workdir: Path
    github: GitHubEmulator
    cluster: Cluster
    slack: SlackEmulator
    pipeline_path: Path

    def stop(self) -> None:
        self.slack.stop()
        self.cluster.stop()
        self.github.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def bot_environment(self) -> dict[str, str]:
        return {**serve_environment(self.slack, self.github, self.cluster.url),
                "PROMOTEBOT_PIPELINE": str(self.pipeline_path)}


def start_fleet(count: int, *, channels: int = 1, time_scale: float = 60.0,
                pod_start_delay: float = 3.0, flux_interval: str = "10m") -> Fleet:
    apps = [app_name(i) for i in range(1, count + 1)]
    channel_ids = [f"C0FLEET{i:03d}" for i in range(channels)]
    workdir = Path(tempfile.mkdtemp(prefix="promotebot-fleet-"))
    repo = workdir / f"{REPO}.git"
    seed_fleet(repo, apps)
    github = GitHubEmulator(
        repo, OWNER, REPO,
        [GitHubUser("promotebot", BOT_GITHUB_TOKEN, "promotebot", type="Bot")]
        + [GitHubUser(p.github_login, p.github_token, p.name) for p in PEOPLE]).start()
    flux_dir = workdir / "flux"
    flux_dir.mkdir()
    (flux_dir / "fleet.yaml").write_text(yaml.safe_dump_all(flux_objects(apps, flux_interval)))
    (flux_dir / "kustomization.yaml").write_text("resources:\n  - fleet.yaml\n")
    cluster = start_cluster(repo, repo_url=REPO_URL, flux_dir=flux_dir, time_scale=time_scale,
                            pod_start_delay=pod_start_delay)
    members = (*(p.slack_id for p in PEOPLE), BOT_SLACK_ID)
    slack = SlackEmulator(
        SIGNING_SECRET, BOT_TOKEN,
        [SlackUser(p.slack_id, p.name, p.name.capitalize()) for p in PEOPLE],
        [SlackChannel(c, f"fleet-deploys-{i}", members) for i, c in enumerate(channel_ids)]
        + [SlackChannel("C0FLEETINC", "fleet-incidents", members)],
        [SlackUserGroup(STAKEHOLDERS, "fleet-stakeholders", ()),
         SlackUserGroup(ONCALL, "fleet-oncall", ())],
        bot_user_id=BOT_SLACK_ID).start()
    pipeline_path = workdir / "pipeline.yaml"
    pipeline_path.write_text(pipeline_yaml(apps, channel_ids))
    return Fleet(apps, channel_ids, workdir, github, cluster, slack, pipeline_path)
