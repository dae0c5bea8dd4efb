"""Figures for the bot on the emulated world: Slack ack latency of a slash command (Slack
allows 3 s), and how long a staging promotion takes from /promote to deployed once its gates
are green (Flux at time scale 60, so a 2m interval is 2 s; the bot asks for a reconcile at
once, so it should not wait for the interval).

Run: .venv/bin/python -m benchmarks.bench_promotion   (prints figures; asserts nothing)
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from github import Auth, Github

from sandbox.bot import start_bot_for
from sandbox.gitseed import commit_and_push
from sandbox.world import DEPLOYS, World, person


def _push(world: World, work: Path, n: int) -> str:
    return commit_and_push(world.github.clone_url, "dev",
                           {"apps/myapp/CHANGELOG.md": f"- change {n}\n"}, f"change {n}", work)


def _wait(check, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.01)
    raise TimeoutError


def main() -> None:
    dana = person("developer").slack_id
    with tempfile.TemporaryDirectory() as tmp, World(time_scale=60, pod_start_delay=3.0) as world:
        bot = start_bot_for(world, poll_seconds=1.0)
        world.slack.bot_request_url = bot.slack_request_url
        try:
            acks = []
            for _ in range(60):
                start = time.perf_counter()
                reply = world.slack.command(dana, DEPLOYS, "/promote status")
                acks.append((time.perf_counter() - start) * 1000)
                assert reply["status"] == 200
            q = statistics.quantiles(acks, n=100)
            print(f"slash command ack over {len(acks)}: p50 {q[49]:.1f} ms, p99 {q[98]:.1f} ms, "
                  f"max {max(acks):.1f} ms (Slack allows 3000 ms)")

            reviewer = Github(auth=Auth.Token(person("reviewer").github_token),
                              base_url=world.github.url, seconds_between_requests=None,
                              seconds_between_writes=None).get_repo("acme/myapp")
            totals, after_green = [], []
            for n in range(5):
                sha = _push(world, Path(tmp), n)
                _wait(lambda s=sha: bot.cluster.kustomization(
                    bot.pipeline.app("myapp").env("dev").kustomization).last_applied_revision
                    == f"dev@sha1:{s}")
                start = time.perf_counter()
                world.slack.command(dana, DEPLOYS, "/promote staging")
                record = _wait(lambda: (r := bot.store.live("myapp", "staging"))
                               and r.state.value == "awaiting_gates" and r)
                world.github.set_check(record.head_sha, "ci", "success")
                reviewer.get_pull(record.pr_number).create_review(event="APPROVE")
                green = time.perf_counter()
                done = _wait(lambda rid=record.id: (r := bot.store.get(rid)) and not r.live and r)
                end = time.perf_counter()
                assert done.state.value == "deployed", done.failure
                totals.append(end - start)
                after_green.append(end - green)
            print(f"staging promotion, /promote to deployed (incl. the test's own check and "
                  f"review): median {statistics.median(totals):.2f} s over {len(totals)}")
            print(f"staging promotion, gates green to deployed (merge, reconcile, rollout of 2 "
                  f"pods): median {statistics.median(after_green):.2f} s, max "
                  f"{max(after_green):.2f} s (staging's interval at this scale: 2 s)")
        finally:
            bot.stop()


if __name__ == "__main__":
    main()
