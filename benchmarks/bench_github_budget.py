"""What the bot costs in GitHub requests, counted by a proxy of its own between the real bot
and the GitHub emulator: per staging promotion, per prod promotion with its branch sync, per
hour of one promotion waiting at its gates with and without webhooks, and that hour again with
ten people looking at App Home; by endpoint. The two promotions again with `githubWriteBack:
false`: the workflow's own requests, without the four per env deploy (a Deployment, its two
statuses, a commit status) that show GitHub what runs where. A 304 (a conditional read that
found nothing changed) is shown apart: GitHub does not count it against the rate limit.

Time is scaled by 60 for the waiting hours, as the sandbox's Flux is: the poll and the safety
poll are production's defaults divided by 60 and one waiting "hour" is 60 s of real time. The
status view's bounds (at most every 5 s, at least every 60 s) are not scaled: with viewers the
figure is what a minute costs in a world whose Flux moves 60 times faster than a real one.
git (clone, fetch, push) goes to the emulator directly and is not part of the REST budget.

Run: .venv/bin/python -m benchmarks.bench_github_budget   (prints figures; asserts nothing)
"""

from __future__ import annotations

import http.client
import re
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from github import Auth, Github

from handlers import ids
from promotebot.wiring import Bot, Tuning, build
from sandbox.bot import SANDBOX_WEBHOOK_SECRET, sandbox_pipeline
from sandbox.gitseed import commit_and_push, run_git
from sandbox.slack.models import SlackUser
from sandbox.world import DEPLOYS, World, person
from slackbot.settings import load_settings

SCALE = 60  # one waiting hour is this many times shorter; Flux runs this much faster
POLL, SAFETY_POLL = 30.0, 1200.0  # production's defaults
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
       "proxy-authorization", "proxy-authenticate", "content-length", "host"}


def endpoint(method: str, path: str) -> str:
    """GitHub's operation, as its REST description names it."""
    path = path.split("?", 1)[0]
    path = re.sub(r"^/repos/[^/]+/[^/]+", "/repos/{owner}/{repo}", path)
    path = re.sub(r"/branches/.+", "/branches/{branch}", path)
    path = re.sub(r"/compare/.+", "/compare/{basehead}", path)
    path = re.sub(r"/collaborators/[^/]+", "/collaborators/{username}", path)
    path = re.sub(r"/commits/[^/]+", "/commits/{ref}", path)
    path = re.sub(r"/statuses/[0-9a-f]{7,40}$", "/statuses/{sha}", path)
    path = re.sub(r"/deployments/\d+", "/deployments/{deployment_id}", path)
    path = re.sub(r"/pulls/\d+", "/pulls/{pull_number}", path)
    path = re.sub(r"/issues/\d+", "/issues/{issue_number}", path)
    return f"{method} {path}"


class CountingProxy:
    """An HTTP proxy to `target` that counts each request by endpoint and whether GitHub
    counts it (everything but a 304)."""

    def __init__(self, target: str):
        parts = urlsplit(target)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._lock = threading.Lock()
        self.counted: Counter[str] = Counter()
        self.free: Counter[str] = Counter()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
                upstream = http.client.HTTPConnection(proxy._host, proxy._port, timeout=60)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    reply = upstream.getresponse()
                    data = reply.read()
                except (OSError, http.client.HTTPException):
                    self.close_connection = True  # the emulator dropped it: so do we
                    return
                finally:
                    upstream.close()
                proxy.count(self.command, self.path, reply.status)
                self.send_response(reply.status)
                for key, value in reply.getheaders():
                    if key.lower() not in HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def count(self, method: str, path: str, status: int) -> None:
        with self._lock:
            (self.free if status == 304 else self.counted)[endpoint(method, path)] += 1

    def reset(self) -> None:
        with self._lock:
            self.counted.clear()
            self.free.clear()

    def snapshot(self) -> tuple[Counter[str], Counter[str]]:
        with self._lock:
            return Counter(self.counted), Counter(self.free)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def wait(check: Callable[[], Any], what: str, timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise TimeoutError(what)


def settle(bot: Bot, quiet: float = 1.5, most: float = 15.0) -> None:
    """Until the bot has had nothing to do for `quiet` seconds (or `most` went by: App Home
    viewers keep it busy while Flux moves)."""
    since = start = time.monotonic()
    while time.monotonic() - since < quiet and time.monotonic() - start < most:
        if not bot.idle():
            since = time.monotonic()
        time.sleep(0.05)


@contextmanager
def running_bot(world: World, proxy: CountingProxy, *, webhooks: bool, poll: float,
                safety: float, write_back: bool = True) -> Iterator[Bot]:
    env = {**world.bot_environment, "GITHUB_API_URL": proxy.url, "PROMOTEBOT_HOST": "127.0.0.1",
           "PROMOTEBOT_PORT": "0", "PROMOTEBOT_POLL_SECONDS": str(poll),
           "PROMOTEBOT_SAFETY_POLL_SECONDS": str(safety)}
    if webhooks:
        env["GITHUB_WEBHOOK_SECRET"] = SANDBOX_WEBHOOK_SECRET
    pipeline = sandbox_pipeline()
    if not write_back:  # githubWriteBack: false for every app
        pipeline = replace(pipeline, apps={name: replace(app, github_write_back=False)
                                           for name, app in pipeline.apps.items()})
    bot = build(load_settings(env), pipeline,
                tuning=Tuning(github_throttle=False, watch_timeout_seconds=30)).start()
    if webhooks:
        world.github.hooks.configure(f"{bot.url}/github/webhook", SANDBOX_WEBHOOK_SECRET)
    else:
        world.github.hooks.configure(None, None)
    world.slack.bot_request_url = bot.slack_request_url
    try:
        yield bot
    finally:
        bot.stop()


class Run:
    def __init__(self, world: World, bot: Bot, workdir: Path):
        self.world, self.bot, self.workdir = world, bot, workdir
        self.n = 0
        self.reviewer = Github(auth=Auth.Token(person("reviewer").github_token),
                               base_url=world.github.url, seconds_between_requests=None,
                               seconds_between_writes=None).get_repo("acme/myapp")

    def flux_runs(self, env: str, sha: str) -> bool:
        status = self.bot.cluster.kustomization(
            self.bot.pipeline.app("myapp").env(env).kustomization)
        return bool(status.is_ready and status.last_applied_revision == f"{env}@sha1:{sha}")

    def change_on_dev(self) -> str:
        self.n += 1
        sha = commit_and_push(self.world.github.clone_url, "dev",
                              {"apps/myapp/CHANGELOG.md": f"- change {self.n}\n"},
                              f"change {self.n}", self.workdir)
        wait(lambda: self.flux_runs("dev", sha), "dev to run the change")
        return sha

    def request(self, env: str) -> Any:
        self.world.slack.command(person("developer").slack_id, DEPLOYS, f"/promote {env}")
        return wait(lambda: (r := self.bot.store.live("myapp", env))
                    and r.state.value == "awaiting_gates" and r, f"{env} awaiting its gates")

    def green(self, record: Any) -> None:
        self.world.github.set_check(record.head_sha, "ci", "success")
        self.reviewer.get_pull(record.pr_number).create_review(event="APPROVE")

    def finish(self, record: Any) -> Any:
        done = wait(lambda: (r := self.bot.store.get(record.id)) and not r.live and r,
                    f"#{record.id} to finish")
        assert done.state.value == "deployed", done.failure
        return done

    def click(self, user: str, record: Any, action: str) -> None:
        ref = wait(lambda: self.bot.card_of(record.id), "the card")
        wait(lambda: action in _actions(self.world.slack, ref.channel, ref.ts), action)
        self.world.slack.click(user, action, channel=ref.channel, ts=ref.ts)


def _actions(slack: Any, channel: str, ts: str) -> set[str]:
    for message in slack.history(channel):
        if message["ts"] == ts:
            return {e.get("action_id", "") for b in message.get("blocks", [])
                    if b.get("type") == "actions" for e in b.get("elements", [])}
    return set()


def staging_promotion(run: Run, proxy: CountingProxy) -> tuple[Counter[str], Counter[str]]:
    run.change_on_dev()
    settle(run.bot)
    proxy.reset()
    record = run.request("staging")
    run.green(record)
    run.finish(record)
    settle(run.bot)
    return proxy.snapshot()


def prod_promotion(run: Run, proxy: CountingProxy) -> tuple[Counter[str], Counter[str]]:
    """Right after a staging promotion: staging has something prod does not."""
    proxy.reset()
    dev_before = run.world.github.state.repo.branch_sha("dev")
    record = run.request("prod")
    run.green(record)
    stakeholder, developer = person("stakeholder").slack_id, person("developer").slack_id
    run.click(stakeholder, record, ids.APPROVE)
    run.click(developer, record, ids.ADD_PLAN)
    view = wait(lambda: run.world.slack.open_views(developer), "the rollback plan modal")[-1]
    run.world.slack.submit(developer, view["id"], {
        ids.PLAN_BLOCK: {ids.PLAN_INPUT: "Revert the merge commit on prod."}})
    done = run.finish(record)
    wait(lambda: run.world.github.state.repo.branch_sha("dev") != dev_before
         and _contains(run.world, "dev", done.merge_sha), "prod synced down to dev")
    settle(run.bot, quiet=2.0)
    return proxy.snapshot()


def _contains(world: World, branch: str, sha: str) -> bool:
    try:
        run_git("--git-dir", str(world.repo.path), "merge-base", "--is-ancestor", sha, branch)
    except Exception:
        return False
    return True


def waiting_hour(run: Run, proxy: CountingProxy, viewers: int = 0
                 ) -> tuple[Counter[str], Counter[str], int]:
    """One staging promotion waiting at its gates (no check, no review) for a scaled hour."""
    run.change_on_dev()
    record = run.request("staging")
    users = run.world.slack.workspace.users
    for i in range(viewers):  # ten people of the workspace open the Home tab
        user = SlackUser(f"U0VIEW{i}", f"viewer{i}", f"Viewer {i}")
        with run.world.slack.workspace.lock:
            users.setdefault(user.id, user)
        run.world.slack.open_home(user.id)
    settle(run.bot)
    reads_before = run.bot.core.status.reads
    proxy.reset()
    time.sleep(3600 / SCALE)
    counted, free = proxy.snapshot()
    reads = run.bot.core.status.reads - reads_before
    run.world.slack.command(person("developer").slack_id, DEPLOYS, f"/promote cancel {record.id}")
    wait(lambda: not (r := run.bot.store.get(record.id)) or not r.live, "the cancel")
    run.reviewer.get_pull(record.pr_number).edit(state="closed")  # the next one opens its own
    settle(run.bot)
    return counted, free, reads


def show(title: str, counted: Counter[str], free: Counter[str], per: str = "") -> None:
    print(f"\n{title}: {sum(counted.values())} requests GitHub counts{per}, "
          f"{sum(free.values())} conditional reads answered 304 (free)")
    for name in sorted(set(counted) | set(free), key=lambda k: (-counted[k], k)):
        print(f"  {counted[name]:5d} {free[name]:5d}  {name}")


def main() -> None:
    print("GitHub requests through a counting proxy (columns: counted, 304)")
    with tempfile.TemporaryDirectory() as tmp, World(time_scale=SCALE,
                                                    pod_start_delay=3.0) as world:
        proxy = CountingProxy(world.github.url)
        try:
            with running_bot(world, proxy, webhooks=True, poll=POLL / SCALE,
                             safety=SAFETY_POLL / SCALE) as bot:
                run = Run(world, bot, Path(tmp))
                show("staging promotion (webhooks)", *staging_promotion(run, proxy))
                show("prod promotion with its branch sync (webhooks)",
                     *prod_promotion(run, proxy))
                counted, free, reads = waiting_hour(run, proxy)
                show(f"one waiting hour, webhooks, safety poll {SAFETY_POLL:g}s", counted, free)
                counted, free, reads = waiting_hour(run, proxy, viewers=10)
                show(f"one waiting hour, webhooks, ten App Home viewers ({reads} status "
                     f"reads)", counted, free)
            with running_bot(world, proxy, webhooks=False, poll=POLL / SCALE,
                             safety=SAFETY_POLL / SCALE) as bot:
                run = Run(world, bot, Path(tmp))
                run.n = 100
                counted, free, reads = waiting_hour(run, proxy)
                show(f"one waiting hour, no webhooks, poll {POLL:g}s", counted, free)
            # The same promotions with githubWriteBack: false: the workflow's own requests,
            # without the Deployments and commit statuses that tell GitHub what runs where.
            with running_bot(world, proxy, webhooks=True, poll=POLL / SCALE,
                             safety=SAFETY_POLL / SCALE, write_back=False) as bot:
                run = Run(world, bot, Path(tmp))
                run.n = 200
                show("staging promotion (webhooks, githubWriteBack: false)",
                     *staging_promotion(run, proxy))
                show("prod promotion with its branch sync (webhooks, githubWriteBack: false)",
                     *prod_promotion(run, proxy))
        finally:
            proxy.stop()


if __name__ == "__main__":
    main()
