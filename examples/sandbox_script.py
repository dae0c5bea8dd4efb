"""A script against the headless sandbox: the README's walkthrough without a browser.

Start the sandbox first, then run this with its state file:

    ./scripts/sandbox --headless --state-file sandbox.json &
    .venv/bin/python examples/sandbox_script.py sandbox.json

It pushes a change to dev with plain git, waits until Flux applied it (read from the
cluster's Kustomization with the kubernetes client), types `/promote staging` as the
developer through the Slack emulator's `sandbox.command`, approves the bot's pull request as
the reviewer and passes its `ci` check with PyGithub, then waits until the bot's card in the
deploys channel (the message whose blocks link the pull request) says deployed (read with
`sandbox.state`). Docs: docs/sandbox.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import kubernetes.client
from github import Auth, Github

BOUND = 180.0  # seconds any one wait may take before the script gives up


def slack(state: dict[str, Any], method: str, **params: Any) -> dict[str, Any]:
    """One call of the Slack emulator's API (`sandbox.*` methods need no token)."""
    request = urllib.request.Request(
        state["slack"]["api_url"] + method, data=json.dumps(params).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        reply: dict[str, Any] = json.loads(answer.read())
    if not reply.get("ok"):
        raise RuntimeError(f"{method} failed: {reply}")
    return reply


def wait(what: str, check: Any, seen: Any = None) -> Any:
    """Polls `check` until it returns something true, for at most BOUND seconds; `seen` says
    what there was instead, when it gives up."""
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise SystemExit(f"gave up waiting for {what}" + (f"; instead: {seen()}" if seen else ""))


def person(state: dict[str, Any], role: str) -> dict[str, Any]:
    return next(u for u in state["users"] if role in u["roles"])


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def push_a_change(state: dict[str, Any], work: Path) -> str:
    git("clone", "--quiet", "--branch", "dev", state["github"]["clone_url"], str(work))
    (work / "apps/myapp/CHANGELOG.md").write_text("- a change from a script\n")
    git("add", "--all", cwd=work)
    git("-c", "user.name=dana", "-c", "user.email=dana@example.com", "-c",
        "commit.gpgsign=false", "commit", "--quiet", "-m", "A change from a script", cwd=work)
    git("push", "--quiet", "origin", "dev", cwd=work)
    return git("rev-parse", "HEAD", cwd=work)


def dev_applied(state: dict[str, Any], sha: str) -> bool:
    """Whether Flux's dev Kustomization applied `sha` and is Ready."""
    api = kubernetes.client.ApiClient(kubernetes.client.Configuration(
        host=state["kubernetes"]["api_url"]))
    with api:
        ks = kubernetes.client.CustomObjectsApi(api).get_namespaced_custom_object(
            "kustomize.toolkit.fluxcd.io", "v1", "flux-system", "kustomizations", "myapp-dev")
    status = ks.get("status") or {}
    ready = [c for c in status.get("conditions") or [] if c["type"] == "Ready"]
    return bool(status.get("lastAppliedRevision", "").endswith(sha)
                and ready and ready[0]["status"] == "True")


def card_text(state: dict[str, Any], pull_url: str) -> str:
    """The one-line fallback text of the promotion's card: the bot's message in the deploys
    channel whose blocks link the pull request ("" while there is none)."""
    deploys = state["slack"]["channels"]["deploys"]
    channel = next(c for c in slack(state, "sandbox.state")["channels"] if c["id"] == deploys)
    cards = [m for m in channel["messages"]
             if m.get("bot_id") and pull_url in json.dumps(m.get("blocks") or [])]
    return str(cards[-1].get("text", "")) if cards else ""


def main(state_file: str) -> int:
    state = json.loads(Path(state_file).read_text())
    dana, riley = person(state, "developer"), person(state, "reviewer")

    def github(who: dict[str, Any]) -> Github:
        return Github(auth=Auth.Token(who["github_token"]), base_url=state["github"]["api_url"])

    with tempfile.TemporaryDirectory() as tmp:
        head = push_a_change(state, Path(tmp) / "clone")
    print(f"pushed {head[:7]} to dev")
    wait("Flux to apply it on dev", lambda: dev_applied(state, head))
    print(f"dev runs {head[:7]}")

    answer = slack(state, "sandbox.command", user=dana["slack_id"],
                   channel=state["slack"]["channels"]["deploys"], text="/promote staging")
    print(f"/promote staging: the bot answered HTTP {answer['status']}")
    for said in slack(state, "sandbox.ephemerals", user=dana["slack_id"])["messages"]:
        print(f"  (only dana sees) {said.get('text', '')}")

    repo = github(dana).get_repo(state["github"]["repo"])
    pull = wait("the bot's pull request", lambda: next(
        (p for p in repo.get_pulls(state="open", base="staging")), None))
    print(f"the bot opened #{pull.number}: {pull.title}")
    # CI is yours to play in headless mode (the web UI's stand-in CI is not running)
    repo.create_check_run(name="ci", head_sha=pull.head.sha, status="completed",
                          conclusion="success")
    github(riley).get_repo(state["github"]["repo"]).get_pull(pull.number).create_review(
        event="APPROVE")

    text = wait("the card to say deployed",
                lambda: (t := card_text(state, pull.html_url)).endswith("deployed") and t,
                lambda: card_text(state, pull.html_url))
    print(f"the card: {text}")
    print(f"the pull request, readable in a browser: {pull.html_url}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "sandbox.json"))
