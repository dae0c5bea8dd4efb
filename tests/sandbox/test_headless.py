"""The headless sandbox as a user's script sees it: a real process, its state file, plain git,
PyGithub and the kubernetes client against what it started."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes.client
import pytest
from github import Auth, Github

from tests import waiting
from tests.sandbox.state import post_json, push_to_dev, user

# A start-up (emulators, Flux's first reconciles, the bot) is a process of its own: it gets a
# bound that no load exhausts, the other waits the suite's.
STARTUP = 180.0


def wait_for(check: Any, what: str, timeout: float = waiting.WAIT) -> Any:
    """The suite's one bounded wait; the sandbox may not answer yet while it starts."""
    return waiting.wait_for(check, what, timeout, ignoring=(Exception,))


def start_sandbox(state_file: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "promotebot.cli", "sandbox", "--headless", "--state-file",
         str(state_file), "--time-scale", "60", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GITHUB_"))},
    )


@pytest.fixture(params=["emulators only", "with the bot"])
def sandbox(request: pytest.FixtureRequest,
            tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    state_file = tmp_path / "state.json"
    proc = start_sandbox(state_file, *(["--no-bot"] if request.param == "emulators only" else []))
    try:
        wait_for(state_file.exists, "the state file", timeout=STARTUP)
        yield proc, json.loads(state_file.read_text())
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_state_file_describes_every_endpoint_and_user(sandbox) -> None:  # type: ignore[no-untyped-def]
    proc, state = sandbox
    assert set(state) == {"slack", "github", "kubernetes", "users", "serve"}
    with_bot = "--no-bot" not in proc.args
    assert (state["slack"]["bot_request_url"] is not None) == with_bot
    assert set(state["slack"]["channels"]) == {"deploys", "incidents"}
    assert state["github"]["repo"] == "acme/myapp"
    roles = {role for u in state["users"] for role in u["roles"]}
    assert {"developer", "reviewer", "stakeholder", "oncall"} <= roles
    for u in state["users"]:
        assert set(u) == {"name", "slack_id", "github_login", "github_token", "roles"}


def test_push_review_check_and_merge_deploys_staging(sandbox, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    proc, state = sandbox
    sha = push_to_dev(state, tmp_path, "- a change")

    def gh(role: str) -> Github:
        return Github(auth=Auth.Token(user(state, role)["github_token"]),
                      base_url=state["github"]["api_url"], retry=None,
                      seconds_between_requests=None, seconds_between_writes=None)

    repo = gh("developer").get_repo(state["github"]["repo"])
    pull = repo.create_pull(base="staging", head="dev", title="Promote to staging", body="")
    gh("reviewer").get_repo("acme/myapp").get_pull(pull.number).create_review(event="APPROVE")
    repo.create_check_run(name="ci", head_sha=sha, status="completed", conclusion="success")
    assert repo.get_commit(sha).get_check_runs()[0].conclusion == "success"
    merged = repo.get_pull(pull.number).merge(merge_method="merge", sha=sha)
    assert merged.merged

    api = kubernetes.client.ApiClient(kubernetes.client.Configuration(
        host=state["kubernetes"]["api_url"]))
    custom = kubernetes.client.CustomObjectsApi(api)
    want = f"staging@sha1:{merged.sha}"

    def staging_deployed() -> bool:
        ks = custom.get_namespaced_custom_object("kustomize.toolkit.fluxcd.io", "v1",
                                                 "flux-system", "kustomizations", "myapp-staging")
        ready = [c for c in ks["status"]["conditions"] if c["type"] == "Ready"]
        return bool(ks["status"].get("lastAppliedRevision") == want and ready
                    and ready[0]["status"] == "True")

    wait_for(staging_deployed, "staging to apply the merge commit")
    deployment = kubernetes.client.AppsV1Api(api).read_namespaced_deployment("myapp", "staging")
    assert deployment.status.ready_replicas == 2

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    out, _ = proc.communicate()
    assert "sandbox stopped" in out


def test_the_bot_answers_slash_commands_in_the_sandbox(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    proc = start_sandbox(state_file)
    try:
        wait_for(state_file.exists, "the state file", timeout=STARTUP)
        state = json.loads(state_file.read_text())
        api = state["slack"]["api_url"]
        dana = user(state, "developer")["slack_id"]
        reply = post_json(api + "sandbox.command", {"user": dana, "channel": state["slack"][
            "channels"]["deploys"], "text": "/promote status"})
        assert reply["ok"] and reply["status"] == 200
        wait_for(lambda: any("Status of myapp" in m.get("text", "") for m in post_json(
            api + "sandbox.ephemerals", {"user": dana})["messages"]), "the status answer")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)

