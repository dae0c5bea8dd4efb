"""The sandbox's emulators for a bot in another process: `promotebot sandbox --no-bot
--bot-url --webhook-url --serve-env` in one process, `promotebot serve` configured from the
file it wrote in another, and a change promoted to staging through the emulated Slack (signed
requests, as the emulator sends them) until GitHub shows the bot's deployment succeeded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import kubernetes.client
from github import Auth, Github

from sandbox.command import main as sandbox_main
from tests import waiting
from tests.redis_server import free_port, redis_server
from tests.sandbox.state import post_json, push_to_dev, user
from tests.waiting import STARTUP


def wait_for(check: Any, what: str, timeout: float = waiting.WAIT) -> Any:
    return waiting.wait_for(check, what, timeout, ignoring=(OSError, ValueError, KeyError))


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _alive(proc: subprocess.Popen[str], what: str) -> None:
    if proc.poll() is not None:
        out, err = proc.communicate()
        raise AssertionError(f"{what} exited {proc.returncode}:\n{out[-3000:]}\n{err[-3000:]}")


def test_serve_apart_from_the_emulators_promotes_a_change_to_staging(tmp_path: Path) -> None:
    bot_port = free_port()
    bot = f"http://127.0.0.1:{bot_port}"
    state_file, serve_env = tmp_path / "state.json", tmp_path / "serve.env"
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("SLACK_", "GITHUB_", "REDIS_", "PROMOTEBOT_", "KUBE"))}
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "promotebot.cli", "sandbox", "--no-bot", "--headless",
         "--state-file", str(state_file), "--serve-env", str(serve_env), "--time-scale", "60",
         "--bot-url", bot,
         "--webhook-url", bot], env=clean, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    serve: subprocess.Popen[str] | None = None
    try:
        waiting.wait_for(lambda: state_file.exists() or _alive(sandbox, "the sandbox"),
                         "the state file", timeout=STARTUP)
        state = json.loads(state_file.read_text())
        assert state["slack"]["bot_request_url"] == f"{bot}/slack/events"
        assert state["serve"]["webhook_url"] == f"{bot}/github/webhook"
        # the README's recipe sources serve.env: the same environment, KEY=value a line
        environment = dict(line.split("=", 1) for line in serve_env.read_text().splitlines())
        assert environment == state["serve"]["environment"]
        assert {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "GITHUB_TOKEN",
                "GITHUB_WEBHOOK_SECRET", "PROMOTEBOT_PIPELINE"} <= set(environment)
        with redis_server(persistence=True) as redis_url:
            serve = subprocess.Popen(
                [sys.executable, "-m", "promotebot.cli", "serve"],
                env={**clean, **environment, "REDIS_URL": redis_url,
                     "PROMOTEBOT_HOST": "127.0.0.1", "PROMOTEBOT_PORT": str(bot_port),
                     "PROMOTEBOT_POLL_SECONDS": "2"},
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            running = serve
            waiting.wait_for(lambda: _status(f"{bot}/readyz") == 200
                             or _alive(running, "promotebot serve"), "serve's /readyz",
                             timeout=STARTUP)
            _promote_to_staging(state, tmp_path)
    finally:
        if serve is not None:
            _stop(serve)
        _stop(sandbox)
    assert sandbox.returncode == 0


def _promote_to_staging(state: dict[str, Any], tmp_path: Path) -> None:
    sha = push_to_dev(state, tmp_path, "- a change served apart")
    custom = kubernetes.client.CustomObjectsApi(kubernetes.client.ApiClient(
        kubernetes.client.Configuration(host=state["kubernetes"]["api_url"])))

    def applied(env: str) -> str:
        ks = custom.get_namespaced_custom_object("kustomize.toolkit.fluxcd.io", "v1",
                                                 "flux-system", "kustomizations", f"myapp-{env}")
        return str(ks["status"].get("lastAppliedRevision") or "")

    wait_for(lambda: applied("dev") == f"dev@sha1:{sha}", "dev to apply the push", 120)

    api = state["slack"]["api_url"]
    dana = user(state, "developer")["slack_id"]
    reply = post_json(api + "sandbox.command", {"user": dana, "channel": state["slack"][
        "channels"]["deploys"], "text": "/promote staging"})
    assert reply["ok"] and reply["status"] == 200, reply  # signed, acked by the serve process

    def gh(role: str) -> Github:
        return Github(auth=Auth.Token(user(state, role)["github_token"]),
                      base_url=state["github"]["api_url"], retry=None,
                      seconds_between_requests=None, seconds_between_writes=None)

    repo = gh("developer").get_repo(state["github"]["repo"])
    pull = wait_for(lambda: next(iter(repo.get_pulls(state="open", base="staging")), None),
                    "the bot's pull request into staging")
    assert pull.head.sha == sha and pull.user.login == "promotebot"
    repo.create_check_run(name="ci", head_sha=sha, status="completed", conclusion="success")
    gh("reviewer").get_repo(state["github"]["repo"]).get_pull(pull.number).create_review(
        event="APPROVE")  # the webhook delivery tells serve at once

    def deployment_succeeded() -> bool:
        deployments = list(repo.get_deployments(environment="staging"))
        newest = max(deployments, key=lambda d: d.id) if deployments else None
        return newest is not None and any(s.state == "success" for s in newest.get_statuses())

    wait_for(deployment_succeeded, "the bot's staging deployment to succeed", 120)
    assert repo.get_pull(pull.number).merged
    merged = repo.get_pull(pull.number).merge_commit_sha
    assert applied("staging") == f"staging@sha1:{merged}"


def test_the_urls_need_no_bot_and_http() -> None:
    class Streams:
        def __init__(self) -> None:
            import io

            self.out, self.err = io.StringIO(), io.StringIO()

    streams = Streams()
    assert sandbox_main(["--bot-url", "http://127.0.0.1:3000"], streams) == 2
    assert streams.err.getvalue() == ("promotebot sandbox: --bot-url points the emulators at a "
                                      "bot started apart: add --no-bot\n")
    streams = Streams()
    assert sandbox_main(["--no-bot", "--webhook-url", "127.0.0.1:3000"], streams) == 2
    assert streams.err.getvalue() == ("promotebot sandbox: --webhook-url: expected an http(s) "
                                      "URL like http://127.0.0.1:3000, got '127.0.0.1:3000'\n")
