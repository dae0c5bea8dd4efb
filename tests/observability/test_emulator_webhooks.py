"""The GitHub emulator's webhook deliveries, seen by a plain receiver: off until a URL is set,
signed with the secret, octokit-shaped payloads for pull_request (opened, synchronize, closed),
pull_request_review (lower-case state), check_run, check_suite, status and push."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from github import Auth, Github

from sandbox.github import GitHubEmulator, GitHubUser
from sandbox.gitseed import run_git, seed_repository
from sandbox.httpserver import BackgroundServer, QuietHandler
from slackbot import webhooks

SECRET = "emulator-hook-secret"
DANA = GitHubUser("dana", "ghp_test_dana", "dana")
RILEY = GitHubUser("riley", "ghp_test_riley", "riley")


class Receiver:
    """Records every POST it gets (headers and body) and answers 202."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(QuietHandler):
            owner: ClassVar[Receiver] = receiver

            def do_POST(self) -> None:
                body = self.read_body()
                with self.owner.lock:
                    self.owner.received.append(({k.lower(): v for k, v in self.headers.items()},
                                                body))
                self.send_json(202, {"status": "accepted"})

        self.server = BackgroundServer(Handler)

    def events(self) -> list[tuple[str, dict[str, Any]]]:
        with self.lock:
            return [(h["x-github-event"], json.loads(b)) for h, b in self.received]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[GitHubEmulator, Receiver, Path]]:
    seeded = seed_repository(tmp_path / "myapp.git")
    receiver = Receiver()
    receiver.server.start()
    try:
        with GitHubEmulator(seeded.path, "acme", "myapp", [DANA, RILEY]) as github:
            yield github, receiver, tmp_path
    finally:
        receiver.server.stop()


def _push(github: GitHubEmulator, workdir: Path, name: str) -> str:
    work = workdir / f"clone-{name}"
    run_git("clone", "--quiet", "--branch", "dev", github.clone_url, str(work))
    (work / f"{name}.md").write_text(name + "\n")
    run_git("add", "--all", cwd=work)
    run_git("-c", "commit.gpgsign=false", "commit", "--quiet", "-m", name, cwd=work)
    run_git("push", "--quiet", "origin", "dev", cwd=work)
    return run_git("rev-parse", "HEAD", cwd=work)


def _client(user: GitHubUser, github: GitHubEmulator) -> Github:
    return Github(auth=Auth.Token(user.token), base_url=github.url, retry=None,
                  seconds_between_requests=None, seconds_between_writes=None)


def test_emulator_delivers_nothing_until_a_url_is_set(
        world: tuple[GitHubEmulator, Receiver, Path]) -> None:
    github, receiver, workdir = world
    _push(github, workdir, "one")
    _client(DANA, github).get_repo("acme/myapp").create_pull(base="staging", head="dev",
                                                             title="Promote")
    assert github.hooks.wait_idle() and github.deliveries == [] and receiver.received == []


def test_emulator_delivers_signed_octokit_shaped_events_in_order(
        world: tuple[GitHubEmulator, Receiver, Path]) -> None:
    github, receiver, workdir = world
    github.webhook_url, github.webhook_secret = receiver.server.url + "/hook", SECRET
    first = _push(github, workdir, "one")
    repo = _client(DANA, github).get_repo("acme/myapp")
    pull = repo.create_pull(base="staging", head="dev", title="Promote")
    second = _push(github, workdir, "two")  # the PR's head moves: synchronize
    github.set_check(second, "ci", "success")
    github.set_status(second, "lint", "success")
    _client(RILEY, github).get_repo("acme/myapp").get_pull(pull.number).create_review(
        event="APPROVE")
    repo.get_pull(pull.number).merge(merge_method="merge", sha=second)
    assert github.hooks.wait_idle()

    for headers, body in receiver.received:  # every delivery is signed and identified
        assert webhooks.verify(SECRET, body, headers["x-hub-signature-256"])
        assert headers["x-github-delivery"] and headers["content-type"] == "application/json"
    events = receiver.events()
    assert [(e, p.get("action")) for e, p in events] == [
        ("push", None),
        ("pull_request", "opened"),
        ("push", None),
        ("pull_request", "synchronize"),
        ("check_run", "created"),
        ("check_run", "completed"),
        ("check_suite", "completed"),
        ("status", None),
        ("pull_request_review", "submitted"),
        ("pull_request", "closed"),
        ("push", None),
    ]
    pushes = [p for e, p in events if e == "push"]
    assert [(p["ref"], p["after"]) for p in pushes[:2]] == [("refs/heads/dev", first),
                                                            ("refs/heads/dev", second)]
    assert pushes[1]["before"] == first and pushes[2]["ref"] == "refs/heads/staging"
    events = [(e, p) for e, p in events if e != "push"]
    by = dict(enumerate(p for _, p in events))
    assert by[0]["pull_request"]["head"]["sha"] == first
    assert (by[1]["before"], by[1]["after"]) == (first, second)
    assert by[3]["check_run"]["conclusion"] == "success"
    assert by[3]["check_run"]["pull_requests"][0]["number"] == pull.number
    assert by[4]["check_suite"]["head_branch"] == "dev"
    assert by[4]["check_suite"]["conclusion"] == "success"
    assert by[5]["sha"] == second and {"name": "dev"}.items() <= by[5]["branches"][0].items()
    assert by[6]["review"]["state"] == "approved" and by[6]["sender"]["login"] == "riley"
    assert by[7]["pull_request"]["merged"] is True
    for _, payload in events:
        assert payload["repository"]["full_name"] == "acme/myapp"
    assert [d.status for d in github.deliveries] == [202] * (len(events) + len(pushes))
    # Every one of them is something the bot's parser understands.
    changes = [webhooks.parse(e, p) for e, p in events]
    assert all(c is not None for i, c in enumerate(changes) if i != 2)  # "created" is ignored


def test_redelivery_keeps_the_delivery_id(world: tuple[GitHubEmulator, Receiver, Path]) -> None:
    github, receiver, workdir = world
    github.webhook_url, github.webhook_secret = receiver.server.url, SECRET
    _push(github, workdir, "one")
    github.set_status(github.state.repo.branch_sha("dev") or "", "ci", "pending")
    assert github.hooks.wait_idle()
    [pushed, first] = github.deliveries
    assert pushed.event == "push"
    github.hooks.redeliver(first.id)
    assert github.hooks.wait_idle()
    ids = [h["x-github-delivery"] for h, _ in receiver.received]
    assert ids == [pushed.id, first.id, first.id]
